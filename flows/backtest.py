"""backtest_flow: ingest > gate > walk-forward folds fanned out on a task runner (each fold, on
its own rows: split > preprocess > gate > train > evaluate > diagnose) > results > report. The
flow keeps the backtest's record (backtest.json, lstmflow.records.backtest) and fills it in as
the steps return."""

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
from lstmflow.backtest.plan import NEED, backtest_rows, fold_frame, fold_step, plan_folds
from lstmflow.backtest.results import across_folds
from lstmflow.config import ConfigError, Override, PipelineConfig
from lstmflow.fit.tracking import Run
from lstmflow.records.backtest import BacktestSummary
from lstmflow.runtime import fan_out
from tasks.backtest import backtest_report_task, fold_task, keep_folds_task
from tasks.ingest import ingest_task, short_series_task
from tasks.track import track_close_task, track_open_task


@flow(name="lstmflow-backtest", log_prints=True, validate_parameters=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def backtest_flow(
    config: PipelineConfig, overrides: Sequence[Override] = (), run_id: str | None = None,
) -> dict[str, Any]:
    """Walk-forward backtest: refit every step per fold on data up to its cut-off, score the
    model against naive baselines on each fold's test window, report mean and spread.

    Args:
        config: The whole pipeline config; `backtest` sets the folds, `runtime` the task runner.
        overrides: Fields to change on top of `config`, as 'dotted.key=value' like the CLI's
            --set (e.g. backtest.folds=4, runtime.runner=dask); every other field keeps its value.
        run_id: Name of the run folder (default: time stamp + random suffix).
    """
    try:
        config, run_dir, summary = open_run(BacktestSummary, config, overrides, run_id)
    except ConfigError as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))
    start = time.perf_counter()
    track, untracked = track_open_task(config, run_dir.name)
    summary.warnings += untracked  # folds are its nested runs
    try:
        _backtest_steps(config, run_dir, summary, track)
    except EXPECTED_ERRORS as exc:
        track_close_task(track, summary.fail("failed", exc).to_json())
        return _stopped(summary, run_dir, exc)
    except Exception as exc:
        track_close_task(track, summary.fail("error", exc).to_json())
        _stopped(summary, run_dir, exc)
        raise
    summary.seconds = round(time.perf_counter() - start, 2)
    bad = [r for r in summary.folds if r.status != "completed"]
    summary.status = "failed" if bad else "completed"
    if bad:
        summary.reason = f"{len(bad)} of {len(summary.folds)} folds failed: " + "; ".join(
            f"fold {r.fold}: {r.reason}" for r in bad)
    backtest_report_task(summary, run_dir)
    track_close_task(track, summary.to_json())
    return Failed(message=summary.reason, data=summary.to_json()) if bad else summary.to_json()


def _backtest_steps(cfg: PipelineConfig, run_dir: Path, summary: BacktestSummary,
                    track: Run | None = None) -> None:
    """The recipe: the data and its gate once, then every fold on the task runner; each step's
    part goes into the record as it returns."""
    data = ingest_task(cfg)
    summary.update(data_fingerprint=data.report["fingerprint"], ingest=data.report)
    gate = raw_gate(data, cfg, run_dir)
    summary.update(gate=gate.record, warnings=[*summary.warnings, *gate.warnings])
    data = short_series_task(data, cfg, backtest_rows(cfg), NEED)
    summary.warnings += [w["message"] for w in data.report["short_series_dropped"]]
    folds = plan_folds(data.frame, cfg)
    plan = fan_out(cfg.runtime, len(folds))
    get_run_logger().info(f"{len(folds)} folds, cut-offs {fold_step(cfg)} steps apart "
                          f"({cfg.backtest.window} window), on the {plan.describe()}")
    if plan.runner == "thread" and plan.workers > 1 and cfg.model.dropout > 0:
        get_run_logger().info("folds in threads draw their dropout masks from torch's one global "
                              "generator: reruns can differ in the last digits (runtime.runner "
                              "dask, or runtime.workers 1, reruns bit-identically)")
    fold_cfg = cfg.model_copy(update={"runtime": cfg.runtime.model_copy(
        update={"torch_threads": plan.torch_threads})})
    calls = [{"frame": fold_frame(data.frame, f), "cfg": fold_cfg, "index": f.index,
              "track": track} for f in folds]
    start = time.perf_counter()
    results = run_all(fold_task, calls, plan)
    seconds = round(time.perf_counter() - start, 2)
    records = keep_folds_task(results, [f.index for f in folds], run_dir)
    summary.update(step=fold_step(cfg), folds_seconds=seconds, folds=records,
                   across=across_folds([r.to_json() for r in records]),
                   fan_out={**asdict(plan), "text": plan.describe()})


def _stopped(summary: BacktestSummary, run_dir: Path, exc: BaseException):
    """Record why the backtest stopped before its folds; a Failed state for expected errors."""
    if isinstance(exc, GateFailed) and exc.key:  # the refusing gate's record
        summary.update(**{exc.key: exc.record, "warnings": [*summary.warnings, *exc.warnings]})
    if run_dir.exists():  # refused at ingestion: nothing was kept, nothing is written
        backtest_report_task(summary, run_dir)
    get_run_logger().error(summary.reason)
    return Failed(message=summary.reason, data=summary.to_json())
