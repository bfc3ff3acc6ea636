"""Report task: summary.json in the run folder, markdown summary and metrics table in Prefect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from lstmflow.report.summary import metrics_rows, render_markdown, write_summary


@task(name="report", cache_policy=NO_CACHE)
def report_task(summary: dict[str, Any], run_dir: Path) -> Path:
    """Write summary.json and publish the run's artifacts."""
    path = write_summary(run_dir, summary)
    create_markdown_artifact(key="run-summary", markdown=render_markdown(summary),
                             description=f"lstmflow run {summary['run_id']}")
    rows = metrics_rows(summary)
    if rows:
        create_table_artifact(key="test-metrics", table=rows,
                              description="Test MAE/RMSE in original units vs baselines")
    return path
