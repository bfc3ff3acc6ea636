"""Backtest tasks: one walk-forward fold, keeping the folds' curves and forecasts, and the
backtest's results and report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from lstmflow.backtest.fold import FoldResult, run_fold
from lstmflow.backtest.results import BACKTEST, fold_rows
from lstmflow.backtest.scores import SCORES
from lstmflow.config import PipelineConfig
from lstmflow.durable import write_atomic
from lstmflow.fit.train import save_history
from lstmflow.records.backtest import BacktestSummary, FoldRecord
from lstmflow.report.backtest import BACKTEST_REPORT, FOLD_FORECASTS, fold_dir, write_backtest_report
from tasks.report import copy_to_store


@task(name="fold", task_run_name="fold-{index}", cache_policy=NO_CACHE)
def fold_task(frame: pd.DataFrame, cfg: PipelineConfig, index: int, track: Any = None):
    """Refit and score one fold on its own rows; a Failed state carrying the result when its
    gate refused it or its fit broke, so the UI shows which fold failed."""
    result = run_fold(frame, cfg, index, track)
    r, log = result.record, get_run_logger()
    if r.status != "completed":
        log.error(f"fold {index} (cut-off {r.cutoff}): {r.reason}")
        return Failed(message=f"fold {index}: {r.reason}", data=result)
    m = r.metrics
    log.info(f"fold {index} (cut-off {r.cutoff}, {r.train_rows} training rows): MAE model "
             f"{m['model']['mae']:.4g}, naive {m['naive']['mae']:.4g}, seasonal naive "
             f"{m['seasonal_naive']['mae']:.4g}; {r.seconds:.1f}s on {r.where}, "
             f"{r.torch_threads} torch threads")
    return result


@task(name="keep-folds", cache_policy=NO_CACHE)
def keep_folds_task(results: list[FoldResult | BaseException], indices: list[int],
                    run_dir: Path) -> list[FoldRecord]:
    """Write each fold's history.json, forecasts.parquet and scores.parquet under folds/<k>/;
    returns the fold
    records (a fold whose task raised gets an 'error' record with the exception)."""
    records = []
    for index, res in zip(indices, results, strict=True):
        if isinstance(res, BaseException):
            records.append(FoldRecord(fold=index, status="error",
                                      reason=f"{type(res).__name__}: {res}"))
            continue
        out = fold_dir(run_dir, index)
        out.mkdir(parents=True, exist_ok=True)
        save_history(res.history, out)
        if res.forecasts is not None and not res.forecasts.empty:
            frame = res.forecasts
            write_atomic(out / FOLD_FORECASTS, lambda f, frame=frame: frame.to_parquet(f))
        if res.scores is not None and not res.scores.empty:  # forecast.calibration: backtest
            table = res.scores
            write_atomic(out / SCORES, lambda f, table=table: table.to_parquet(f))
        records.append(res.record)
    return records


@task(name="backtest-report", cache_policy=NO_CACHE)
def backtest_report_task(summary: BacktestSummary, run_dir: Path) -> Path:
    """backtest.html (a failure to draw it never costs backtest.json), backtest.json from the
    backtest's record, and the table, summary and report-link artifacts."""
    log, start = get_run_logger(), time.perf_counter()
    summary.report_path = str((Path(run_dir) / BACKTEST_REPORT).resolve())
    try:
        write_backtest_report(run_dir, summary.to_json())
    except Exception as exc:  # the results must still be written
        log.error(f"{BACKTEST_REPORT} could not be built: {type(exc).__name__}: {exc}")
        summary.report_path = None
    path = summary.write(Path(run_dir) / BACKTEST)
    shown = summary.to_json()
    rows = fold_rows(shown)
    if rows:
        create_table_artifact(key="backtest-folds", table=rows,
                              description="Per fold: test MAE of model and baselines, model / "
                              "baseline (4 digits); then mean and std over folds")
    create_markdown_artifact(key="backtest-summary", markdown=_markdown(shown),
                             description=f"lstmflow backtest {summary.run_id}")
    if summary.report_path:
        create_link_artifact(key="backtest-report", link=Path(summary.report_path).as_uri(),
                             link_text=BACKTEST_REPORT, description="Folds, errors, forecasts")
    log.info(f"backtest results: {path}; report {summary.report_path} "
             f"({time.perf_counter() - start:.2f}s)")
    copy_to_store(summary, run_dir)
    return path


def _markdown(summary: dict[str, Any]) -> str:
    from lstmflow.backtest.results import render_text

    return f"# Backtest {summary['run_id']}: {summary['status']}\n\n```text\n{render_text(summary)}\n```\n"
