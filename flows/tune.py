"""tune_flow: ingest > gate > the frames every trial fits (the data, or K walk-forward folds) >
trial workers on the task runner (each runs its share of the study's trials) > tune.json,
best.yaml, tune.html and artifacts. The flow keeps the run's record (tune.json,
lstmflow.records.tune) and fills it in as the steps return."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed

from flows.common import EXPECTED_ERRORS, GateFailed, raw_gate
from flows.hooks import notify_failure
from flows.runners import open_run, run_all
from lstmflow.config import ConfigError, Override, PipelineConfig
from lstmflow.fit.tracking import Run
from lstmflow.records.tune import TuneSummary
from lstmflow.runtime import fan_out
from lstmflow.tune.frames import tune_frames, tune_rows
from lstmflow.tune.study import prepare_study, shares, storage_shown, study_name, unshared_study
from tasks.ingest import ingest_task, short_series_task
from tasks.track import track_close_task, track_open_task
from tasks.tune import trial_worker_task, tune_results_task


@flow(name="lstmflow-tune", log_prints=True, validate_parameters=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def tune_flow(
    config: PipelineConfig, overrides: Sequence[Override] = (), run_id: str | None = None,
) -> dict[str, Any]:
    """Hyperparameter search: an Optuna study (TPE, median and diagnosis pruning) over the
    `tune.space` ranges, scored on validation data only; writes best.yaml.

    Args:
        config: The whole pipeline config; `tune` sets the ranges, trials and budget,
            `runtime` the task runner the trials run on.
        overrides: Fields to change on top of `config`, as 'dotted.key=value' like the CLI's
            --set (e.g. tune.trials=40, tune.folds=3); every other field keeps its value.
        run_id: Name of the run folder (default: time stamp + random suffix).
    """
    try:
        config, run_dir, summary = open_run(TuneSummary, config, overrides, run_id)
        summary.update(study=study_name(config), storage=storage_shown(config))
        summary.warnings += [w for w in [unshared_study(config)] if w]
    except ConfigError as exc:  # a bad config or run id: nothing is written
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))
    start = time.perf_counter()
    track, untracked = track_open_task(config, run_dir.name)
    summary.warnings += untracked  # trials are its nested runs
    try:
        _tune_steps(config, run_dir, summary, track)
    except EXPECTED_ERRORS as exc:
        track_close_task(track, summary.fail("failed", exc).to_json())
        return _stopped(summary, run_dir, config, exc)
    except Exception as exc:
        track_close_task(track, summary.fail("error", exc).to_json())
        _stopped(summary, run_dir, config, exc)
        raise
    summary.seconds = round(time.perf_counter() - start, 2)
    tune_results_task(summary, config, run_dir)
    track_close_task(track, summary.to_json())
    if summary.status != "completed":
        return Failed(message=summary.reason, data=summary.to_json())
    return summary.to_json()


def _tune_steps(cfg: PipelineConfig, run_dir: Path, summary: TuneSummary,
                track: Run | None = None) -> None:
    """The recipe: the data and its gate once, the study opened, then the trial workers; each
    step's part goes into the record as it returns."""
    data = ingest_task(cfg)
    summary.update(data_fingerprint=data.report["fingerprint"], ingest=data.report)
    gate = raw_gate(data, cfg, run_dir)
    summary.update(gate=gate.record, warnings=[*summary.warnings, *gate.warnings])
    rows, need = tune_rows(cfg)
    data = short_series_task(data, cfg, rows, need)
    summary.warnings += [w["message"] for w in data.report["short_series_dropped"]]
    frames = tune_frames(data.frame, cfg)
    summary.stored_before = prepare_study(cfg)
    t = cfg.tune
    plan = fan_out(cfg.runtime, t.trials)
    deadline = time.time() + 60 * t.timeout_minutes if t.timeout_minutes else None
    get_run_logger().info(
        f"study '{study_name(cfg)}' ({summary.stored_before} trials stored) in "
        f"{summary.storage}: {t.trials} more trials on {len(frames)} "
        f"{'fold' if t.folds else 'split'}{'s' if len(frames) > 1 else ''}, on the "
        f"{plan.describe()}")
    workers = max(1, plan.workers) if not plan.address else min(t.trials, 8)
    threads = plan.torch_threads or 1
    calls = [{"frames": frames, "cfg": cfg, "worker": i, "trials": n, "deadline": deadline,
              "torch_threads": threads, "start": i == 0 and not summary.stored_before,
              "track": track}
             for i, n in enumerate(shares(t.trials, workers)) if n]
    start = time.perf_counter()
    results = run_all(trial_worker_task, calls, plan)
    seconds = round(time.perf_counter() - start, 2)
    errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    summary.update(trials_seconds=seconds, fan_out={**asdict(plan), "text": plan.describe()},
                   this_run=sorted(n for r in results if isinstance(r, list) for n in r),
                   status="failed" if errors else "completed")
    if errors:
        summary.reason = f"{len(errors)} of {len(calls)} trial workers failed: " + "; ".join(
            errors)


def _stopped(summary: TuneSummary, run_dir: Path, cfg: PipelineConfig, exc: BaseException):
    """Record why tuning stopped before its trials; a Failed state for expected errors."""
    if isinstance(exc, GateFailed) and exc.key:  # the refusing gate's record
        summary.update(**{exc.key: exc.record, "warnings": [*summary.warnings, *exc.warnings]})
    if run_dir.exists():  # refused at ingestion: nothing was kept, nothing is written
        tune_results_task(summary, cfg, run_dir)
    get_run_logger().error(summary.reason)
    return Failed(message=summary.reason, data=summary.to_json())
