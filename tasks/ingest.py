"""Ingest task: file -> canonical frame on a regular grid, snapshot and fingerprint."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.ingest import IngestResult, drop_short_series, ingest, save_snapshot


@task(name="ingest", cache_policy=NO_CACHE, retries=0)
def ingest_task(cfg: PipelineConfig, run_dir: Path) -> IngestResult:
    """Read and canonicalize the data; short series are left out (or refused) per config."""
    log = get_run_logger()
    result = ingest(cfg.data)
    frame, warnings = drop_short_series(
        result.frame, cfg.min_history(), cfg.data.short_series, cfg.data.path
    )
    for w in warnings:
        log.warning(w["message"])
    result.frame = frame
    result.report["short_series_dropped"] = warnings
    save_snapshot(frame, run_dir / "data.parquet")
    r = result.report
    log.info(
        f"ingested {r['rows_read']} rows -> {r['series']} series on a '{r['freq']}' grid "
        f"({r['gap_rows_added']} gap rows added, {r['exact_duplicates_dropped']} exact duplicates "
        f"dropped), fingerprint {r['fingerprint']}"
    )
    return result
