"""Evaluate task: test-set errors in original units next to naive baselines."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.core import Evaluation, FitResult, Forecaster
from lstmflow.durable import write_atomic
from lstmflow.fit.evaluate import forecast_frame
from lstmflow.report.html import FORECASTS, REPORT_SERIES


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate_task(forecaster: Forecaster, fit: FitResult,
                  run_dir: Path | None = None) -> Evaluation:
    """Forecast every test origin with the fit's model and its validation-fitted blend, score
    model, naive and seasonal naive on the same points (and the interval under quantile loss);
    keep the forecasts the report plots."""
    log = get_run_logger()
    if fit.blend:
        log.info("blend weights per step (model, naive, seasonal naive), fitted on validation: "
                 "%s", [[round(w, 2) for w in r] for r in fit.blend["weights"]])
    out = forecaster.evaluate(fit)
    if run_dir is not None:
        frame = forecast_frame(out.forecasts.series[:REPORT_SERIES])
        write_atomic(Path(run_dir) / FORECASTS, lambda f: frame.to_parquet(f))
    o = out.metrics["overall"]
    if o:
        log.info("test MAE: model %.4g, naive %.4g, seasonal naive %.4g (%d points)",
                 o["model"]["mae"], o["naive"]["mae"], o["seasonal_naive"]["mae"],
                 o["model"]["points"])
    return out
