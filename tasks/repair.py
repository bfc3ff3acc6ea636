"""Repair task: refit from the diagnosis' remedies and keep the attempt best on validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.core import FitResult
from lstmflow.data.split import Bounds
from lstmflow.repair import Repair, repair
from lstmflow.report.summary import repair_line


@task(name="repair", cache_policy=NO_CACHE)
def repair_task(first: FitResult, frame: pd.DataFrame, bounds: dict[str, Bounds],
                run_dir: Path, resume: bool = False, track: Any = None) -> Repair:
    """Up to `training.auto_repair` refits in `<run_dir>/attempts/` (each a nested run of the
    tracker run `track`); logs what repair did."""
    log = get_run_logger()
    out = repair(first, frame, bounds, run_dir, resume, log.info, track)
    log.info(repair_line(out.records(), out.block()))
    return out
