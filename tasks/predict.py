"""Prediction tasks: the verified champion, the fit of the new data, the forecasts, the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.ingest import IngestResult
from lstmflow.serve.predict import Champion, champion_for, check_fit, forecast, write_forecasts


@task(name="champion", cache_policy=NO_CACHE)
def champion_task(cfg: PipelineConfig) -> Champion:
    """Load the champion with every file checked against its manifest."""
    champ = champion_for(cfg)
    log = get_run_logger()
    log.info(f"champion {champ.version.name} verified ({len(champ.version.manifest['files'])} "
             f"files, manifest {champ.version.manifest['manifest_sha256'][:12]})")
    for note in champ.notes:
        log.warning(note)
    return champ


@task(name="check-fit", cache_policy=NO_CACHE)
def check_fit_task(data: IngestResult, champ: Champion) -> list[str]:
    """Refuse data on another grid or with unknown series; warn about series left out."""
    warnings = check_fit(data, champ)
    for w in warnings:
        get_run_logger().warning(w)
    return warnings


@task(name="forecast", cache_policy=NO_CACHE)
def forecast_task(champ: Champion, frame: pd.DataFrame, future: pd.DataFrame | None = None
                  ) -> tuple[pd.DataFrame, list[str]]:
    """The next horizon steps of every series, with the champion's fitted state (`future`: the
    file's rows after the last observation, for inputs known ahead)."""
    table, warnings = forecast(champ, frame, future)
    log = get_run_logger()
    for w in warnings:
        log.warning(w)
    log.info(f"forecast {table['series_id'].nunique()} series x {champ.cfg.forecast.horizon} steps "
             f"with {champ.version.name}")
    return table, warnings


@task(name="write-forecasts", cache_policy=NO_CACHE)
def write_forecasts_task(table: pd.DataFrame, path: Path, record: dict[str, Any]) -> Path:
    """Write the Parquet file (whole or absent) and publish what was forecast."""
    path = write_forecasts(table, path)
    create_markdown_artifact(key="prediction", markdown=_markdown(record, table, path),
                             description=f"forecasts of champion {record['model_version']}")
    get_run_logger().info(f"forecasts: {path}")
    return path


def _markdown(record: dict[str, Any], table: pd.DataFrame, path: Path) -> str:
    lines = [f"Forecast {record['series']} series x {len(table) // max(record['series'], 1)} "
             f"steps with champion `{record['model_version']}` into `{path}`.", ""]
    lines += [f"- warning: {w}" for w in record["warnings"]]
    head = table.head(10).astype({"timestamp": str})
    lines += ["", "| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row)
              + " |" for row in head.itertuples(index=False)]
    return "\n".join(lines)
