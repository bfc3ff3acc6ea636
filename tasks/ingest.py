"""Ingest tasks: file -> canonical frame on a regular grid; short series; the snapshot."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.ingest import IngestResult, describe_ingest, drop_short_series, ingest, save_snapshot
from lstmflow.runs import SNAPSHOT


@task(name="ingest", cache_policy=NO_CACHE, retries=0)
def ingest_task(cfg: PipelineConfig) -> IngestResult:
    """Read and canonicalize the data, writing nothing: a refused file leaves no trace."""
    log = get_run_logger()
    result = ingest(cfg.data)
    r = result.report
    log.info(
        f"ingested {r['rows_read']} rows -> {r['series']} series on a '{r['freq']}' grid, "
        f"fingerprint {r['fingerprint']}"
    )
    for line in describe_ingest(r):
        log.info(f"ingestion fixed: {line}")
    return result


@task(name="short-series", cache_policy=NO_CACHE)
def short_series_task(data: IngestResult, cfg: PipelineConfig, min_rows: int | None = None,
                      need: str | None = None) -> IngestResult:
    """Leave out (or refuse) series too short for window + horizon + val + test (or `min_rows`
    rows, whose formula `need` names)."""
    frame, warnings = drop_short_series(
        data.frame, min_rows or cfg.min_history(), cfg.data.short_series, cfg.data.path,
        *([need] if need else []),
    )
    for w in warnings:
        get_run_logger().warning(w["message"])
    data.frame = frame
    data.report["short_series_dropped"] = warnings
    return data


@task(name="snapshot", cache_policy=NO_CACHE)
def snapshot_task(data: IngestResult, run_dir: Path) -> Path:
    """Keep the canonical frame that passed both gates as `data.parquet` in the run folder
    (a resumed run read its own snapshot: it is kept as it is)."""
    path = run_dir / SNAPSHOT
    if Path(data.report.get("source", "")) == path and path.is_file():
        return path
    return save_snapshot(data.frame, path)
