"""Report task: report.html and summary.json in the run folder; summary, metrics and a link to
the report as Prefect artifacts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from lstmflow.records.run import RunSummary
from lstmflow.report.html import REPORT, write_report
from lstmflow.report.summary import metrics_rows, render_markdown, write_summary
from lstmflow.store.archive import archive_said


@task(name="report", cache_policy=NO_CACHE)
def report_task(summary: RunSummary, run_dir: Path) -> Path:
    """Write report.html (a failure to draw it never costs the summary), then summary.json from
    the run's record, and publish the run's artifacts."""
    log, start = get_run_logger(), time.perf_counter()
    summary.report_path = str((Path(run_dir) / REPORT).resolve())
    try:
        write_report(run_dir, summary.to_json())
    except Exception as exc:  # the summary must still be written: it is the run's record
        log.error(f"report.html could not be built: {type(exc).__name__}: {exc}")
        summary.report_path = None
    path = write_summary(run_dir, summary)
    shown = summary.to_json()
    create_markdown_artifact(key="run-summary", markdown=render_markdown(shown),
                             description=f"lstmflow run {summary.run_id}")
    rows = metrics_rows(shown)
    if rows:
        create_table_artifact(key="test-metrics", table=rows,
                              description="Test MAE in original units vs baselines (4 digits)")
    if summary.report_path:
        create_link_artifact(key="run-report", link=Path(summary.report_path).as_uri(),
                             link_text="report.html", description="Diagnosis, curves, forecasts")
        log.info(f"report: {summary.report_path}")
    copy_to_store(summary, run_dir)
    log.info(f"report and summary took {time.perf_counter() - start:.2f}s")
    return path


def copy_to_store(summary: Any, run_dir: Path) -> None:
    """A URL output_dir: the run folder (report, summary, curves) to the store, best-effort
    (`summary`: any run record with the run's `config`: training, backtest, tune)."""
    config = summary.config or {}
    said = archive_said(config.get("output_dir") or "", run_dir, config.get("storage_options"))
    if said:
        get_run_logger().info(f"run folder {said}")
