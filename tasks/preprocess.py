"""Split and preprocess tasks: chronological split, then impute/features/scale fit on train."""

from __future__ import annotations

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared, prepare
from lstmflow.data.split import Bounds, split_bounds


@task(name="split", cache_policy=NO_CACHE)
def split_task(frame: pd.DataFrame, cfg: PipelineConfig) -> dict[str, Bounds]:
    """Per series: train rows, then val_size rows, then test_size rows, in time order."""
    return split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size)


@task(name="preprocess", cache_policy=NO_CACHE)
def preprocess_task(frame: pd.DataFrame, bounds: dict[str, Bounds], cfg: PipelineConfig) -> Prepared:
    """Impute, engineer features, transform and scale; fitted on the training rows only."""
    prepared = prepare(frame, bounds, cfg)
    rep, log = prepared.report, get_run_logger()
    imp = rep["imputation"]
    log.info(
        f"imputation '{imp['method']}' (max_gap {imp['max_gap']}): filled per column "
        f"{imp['filled_total']}; per series {imp['filled']}"
    )
    log.info(f"inputs {prepared.inputs}; target transform '{cfg.preprocess.target_transform}'")
    log.info(f"scalers per column: {rep['scaling']['kinds']}")
    if "log_fallback" in rep:
        log.warning(rep["log_fallback"])
    return prepared
