"""Split and preprocess tasks: chronological split, then impute/features/scale fit on train."""

from __future__ import annotations

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.core import Forecaster
from lstmflow.data.prepare import Prepared
from lstmflow.data.split import Bounds


@task(name="split", cache_policy=NO_CACHE)
def split_task(forecaster: Forecaster, frame: pd.DataFrame) -> dict[str, Bounds]:
    """Per series: train rows, then val_size rows, then test_size rows, in time order."""
    return forecaster.split(frame)


@task(name="preprocess", cache_policy=NO_CACHE)
def preprocess_task(forecaster: Forecaster, frame: pd.DataFrame,
                    bounds: dict[str, Bounds]) -> Prepared:
    """Impute, engineer features, transform and scale; fitted on the training rows only."""
    prepared = forecaster.prepare(frame, bounds)
    rep, log = prepared.report, get_run_logger()
    imp = rep["imputation"]
    log.info(
        f"imputation '{imp['method']}' (max_gap {imp['max_gap']}): filled per column "
        f"{imp['filled_total']}; per series {imp['filled']}"
    )
    log.info(f"inputs {prepared.inputs}; target transform "
             f"'{forecaster.cfg.preprocess.target_transform}'")
    log.info(f"scalers per column: {rep['scaling']['kinds']}")
    if rep.get("known_ahead"):
        log.info(f"known ahead (their values at the {forecaster.cfg.forecast.horizon} forecast "
                 f"steps are inputs too): {rep['known_ahead']}")
    if "log_fallback" in rep:
        log.warning(rep["log_fallback"])
    return prepared
