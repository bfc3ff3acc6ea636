"""Split and preprocess tasks: chronological split, then impute/features/scale fit on train."""

from __future__ import annotations

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.prepare import Prepared, prepare
from lstmflow.preprocess import Bounds, split_bounds


@task(name="split", cache_policy=NO_CACHE)
def split_task(frame: pd.DataFrame, cfg: PipelineConfig) -> dict[str, Bounds]:
    """Per series: train rows, then val_size rows, then test_size rows, in time order."""
    return split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size)


@task(name="preprocess", cache_policy=NO_CACHE)
def preprocess_task(frame: pd.DataFrame, bounds: dict[str, Bounds], cfg: PipelineConfig) -> Prepared:
    """Impute, engineer features, transform and scale; fitted on the training rows only."""
    prepared = prepare(frame, bounds, cfg)
    filled = prepared.report["imputation"]["filled"]
    get_run_logger().info(
        f"inputs {prepared.inputs}; imputed values per column {filled}; "
        f"target transform '{cfg.preprocess.target_transform}', scaler '{cfg.preprocess.scaler}'"
    )
    return prepared
