"""Tune tasks: a worker running its share of the study's trials, and the results (tune.json,
best.yaml, tune.html, artifacts)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.records.tune import TuneSummary
from lstmflow.report.tune import TUNE_REPORT, importances, render_text, trial_rows, write_tune_report
from lstmflow.tune.study import (
    BEST_YAML,
    TUNE_JSON,
    best_config,
    best_record,
    open_study,
    run_worker,
    trial_records,
    write_best_yaml,
)
from tasks.report import copy_to_store


@task(name="trials", task_run_name="trials-{worker}", cache_policy=NO_CACHE)
def trial_worker_task(frames: Sequence[pd.DataFrame], cfg: PipelineConfig, worker: int,
                      trials: int, deadline: float | None, torch_threads: int,
                      start: bool = False, track: Any = None) -> list[int]:
    """Run `trials` trials of the study in this worker (its own TPE seed and torch threads);
    `start`: the first is the small start trial of a new study."""
    began, log = time.perf_counter(), get_run_logger()
    numbers = run_worker(frames, cfg, worker, trials, deadline, torch_threads, start, log.info,
                         track)
    log.info(f"worker {worker}: trials {numbers} in "
                          f"{time.perf_counter() - began:.1f}s, {torch_threads} torch threads")
    return numbers


@task(name="tune-results", cache_policy=NO_CACHE)
def tune_results_task(summary: TuneSummary, cfg: PipelineConfig, run_dir: Path) -> Path:
    """tune.json from the run's record with every stored trial, best.yaml from the best
    completed one, tune.html (a failure to draw it never costs tune.json) and the trial table,
    summary and link artifacts."""
    log, run_dir = get_run_logger(), Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if summary.stored_before is not None:  # the study was opened: read what it holds
        trials = trial_records(cfg)
        imp, note = importances(open_study(cfg))
        summary.update(trials=trials, best=best_record(trials), importances=imp,
                       importance_note=note)
    best = summary.best
    if best is not None:
        header = (f"lstmflow tune {summary.run_id}: trial {best.number} of study "
                  f"'{summary.study}', validation MAE / naive MAE {best.value:.4g}.\nTrain it: "
                  f"lstmflow train --config {run_dir / BEST_YAML}")
        path = write_best_yaml(best_config(cfg, best.params), run_dir / BEST_YAML, header)
        summary.best_yaml = str(path.resolve())
    summary.report_path = str((run_dir / TUNE_REPORT).resolve())
    try:
        write_tune_report(run_dir, summary.to_json())
    except Exception as exc:  # the results must still be written
        log.error(f"{TUNE_REPORT} could not be built: {type(exc).__name__}: {exc}")
        summary.report_path = None
    path = summary.write(run_dir / TUNE_JSON)
    shown = summary.to_json()
    if shown.get("trials"):
        create_table_artifact(key="tune-trials", table=trial_rows(shown["trials"]),
                              description="Every trial of the study: state, validation MAE / "
                              "naive MAE, params, why it was pruned")
    create_markdown_artifact(key="tune-summary", description=f"lstmflow tune {summary.run_id}",
                             markdown=f"# Tune {summary.run_id}: {summary.status}\n\n"
                                      f"```text\n{render_text(shown)}\n```\n")
    if summary.report_path:
        create_link_artifact(key="tune-report", link=Path(summary.report_path).as_uri(),
                             link_text=TUNE_REPORT, description="History, importances, pruning")
    log.info(render_text(shown))
    copy_to_store(summary, run_dir)
    return path
