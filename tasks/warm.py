"""Tasks around the fit: how this run's network starts (the champion's weights or random ones,
lstmflow.serve.warm), whether a warm fit is kept, and what the intervals are calibrated on."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.backtest.scores import backtest_scores
from lstmflow.config import PipelineConfig, with_overrides
from lstmflow.core import FitResult, Forecaster
from lstmflow.data.prepare import Prepared
from lstmflow.data.split import Bounds
from lstmflow.serve.warm import Start, choose_start, fall_back


@task(name="start", cache_policy=NO_CACHE)
def start_task(cfg: PipelineConfig, prepared: Prepared, frame: pd.DataFrame,
               bounds: dict[str, Bounds], resume: bool = False) -> Start:
    """A warm start from the verified champion when its network fits this run, else cold; a
    resumed run continues its own checkpoint."""
    if resume:
        return Start("cold", "resumed from the run's own checkpoint")
    start = choose_start(cfg, prepared, frame, bounds)
    val = f" (its validation MAE over naive's here: {start.champion_val:.4g})" \
        if start.champion_val is not None else ""
    get_run_logger().info(f"{start.kind} start: {start.reason}{val}")
    return start


@task(name="adopt", cache_policy=NO_CACHE)
def adopt_task(start: Start, cfg: PipelineConfig, frame: pd.DataFrame,
               bounds: dict[str, Bounds]) -> tuple[Forecaster, Prepared, Start]:
    """Take the champion's repair changes (`start.sets`) and prepare the data under them, then
    choose the start again (warm, unless the network still does not fit: then cold)."""
    forecaster = Forecaster(with_overrides(cfg, list(start.sets)))
    prepared = forecaster.prepare(frame, bounds)
    again = choose_start(forecaster.cfg, prepared, frame, bounds, adopt=False)
    again = replace(again, sets=start.sets,
                    reason=f"{start.reason}; {again.kind} start: {again.reason}")
    get_run_logger().info(f"{again.kind} start with {' '.join(start.sets)}: {again.reason}")
    return forecaster, prepared, again


@task(name="keep-warm", cache_policy=NO_CACHE)
def fall_back_task(start: Start, fit: FitResult, cfg: PipelineConfig, run_dir: Path
                   ) -> str | None:
    """Why the warm fit is dropped for a cold start (None: kept)."""
    why = fall_back(start, fit, cfg)
    if why:
        get_run_logger().warning(f"warm start dropped, training from random weights: {why}")
    return why


@task(name="calibration", cache_policy=NO_CACHE)
def calibration_task(cfg: PipelineConfig) -> tuple[tuple[str, pd.DataFrame] | None, list[str]]:
    """`forecast.calibration: backtest`: the newest completed backtest's fold scores of this
    config, or None with the warning that the intervals fall back to validation."""
    found, said = backtest_scores(cfg)
    if found is None:
        get_run_logger().warning(said)
        return None, [said]
    get_run_logger().info(f"intervals calibrated on {said}")
    return found, []
