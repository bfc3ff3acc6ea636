"""Evaluate task: test-set errors in original units next to naive baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.durable import write_atomic
from lstmflow.fit.attempt import forecast_test
from lstmflow.fit.blend import blend_summary, refit_blend
from lstmflow.fit.evaluate import forecast_frame, score
from lstmflow.report.html import FORECASTS, REPORT_SERIES


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate_task(model, prepared: Prepared, cfg: PipelineConfig,
                  run_dir: Path | None = None, stack=None) -> dict[str, Any]:
    """Fit the validation blend toward the baselines (model.blend_baselines; stored in
    `prepared.state`), forecast every test origin and score model, naive and seasonal naive on
    the same points (and the interval under quantile loss); keep the forecasts the report plots.
    `stack`: the fit's StackedSeries of `prepared.arrays`, reused rather than rebuilt."""
    if blend := refit_blend(model, prepared, cfg, stack):  # saved with the model: predict uses it
        get_run_logger().info("blend weights per step (model, naive, seasonal naive), fitted on "
                              "validation: %s", [[round(w, 2) for w in r] for r in blend["weights"]])
    fcs, levels = forecast_test(model, prepared, cfg, stack)
    metrics = score(fcs, cfg.forecast.horizon, levels)
    if blend:  # next to the model alone on the same points, for the report
        metrics["blend"] = blend_summary(blend, fcs)
    if run_dir is not None:
        frame = forecast_frame(fcs[:REPORT_SERIES])
        write_atomic(Path(run_dir) / FORECASTS, lambda f: frame.to_parquet(f))
    o = metrics["overall"]
    if o:
        get_run_logger().info(
            "test MAE: model %.4g, naive %.4g, seasonal naive %.4g (%d points)",
            o["model"]["mae"], o["naive"]["mae"], o["seasonal_naive"]["mae"], o["model"]["points"],
        )
    return metrics
