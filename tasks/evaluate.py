"""Evaluate task: test-set errors in original units next to naive baselines."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.fit.evaluate import evaluate
from lstmflow.fit.train import predict_origins


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate_task(model, prepared: Prepared, cfg: PipelineConfig, stack=None) -> dict[str, Any]:
    """Forecast every test origin and score model, naive and seasonal naive on the same points
    (`stack`: the fit's StackedSeries of `prepared.arrays`, reused rather than rebuilt)."""
    stack, ends, zhat = predict_origins(model, prepared.arrays, cfg, "test", stack)
    metrics = evaluate(prepared.arrays, stack, ends, zhat, prepared.state,
                       cfg.forecast.horizon, cfg.evaluation.season)
    o = metrics["overall"]
    if o:
        get_run_logger().info(
            "test MAE: model %.4f, naive %.4f, seasonal naive %.4f (%d points)",
            o["model"]["mae"], o["naive"]["mae"], o["seasonal_naive"]["mae"], o["model"]["points"],
        )
    return metrics
