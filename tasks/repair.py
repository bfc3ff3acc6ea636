"""Repair task: refit from the diagnosis' remedies and keep the attempt best on validation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.data.split import Bounds
from lstmflow.fit.repair import Repair, repair
from lstmflow.fit.train import FitDiverged, TrainResult
from lstmflow.report.summary import repair_line


@task(name="repair", cache_policy=NO_CACHE)
def repair_task(first: TrainResult | FitDiverged, prepared: Prepared, frame: pd.DataFrame,
                bounds: dict[str, Bounds], cfg: PipelineConfig, run_dir: Path,
                resume: bool = False) -> Repair:
    """Up to `training.auto_repair` refits in `<run_dir>/attempts/`; logs what repair did."""
    log = get_run_logger()
    out = repair(first, first.seconds, prepared, frame, bounds, cfg, run_dir, resume, log.info)
    log.info(repair_line(out.records(), out.block()))
    return out
