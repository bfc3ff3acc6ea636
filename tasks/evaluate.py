"""Evaluate task: test-set errors in original units next to naive baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.durable import write_atomic
from lstmflow.fit.blend import blend_summary, fit_validation_blend
from lstmflow.fit.evaluate import collect_forecasts, forecast_frame, score
from lstmflow.fit.train import predict_origins, predict_quantiles
from lstmflow.report.html import FORECASTS, REPORT_SERIES


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate_task(model, prepared: Prepared, cfg: PipelineConfig,
                  run_dir: Path | None = None, stack=None) -> dict[str, Any]:
    """Fit the validation blend toward the baselines (model.blend_baselines; stored in
    `prepared.state`), forecast every test origin and score model, naive and seasonal naive on
    the same points (and the interval under quantile loss); keep the forecasts the report plots. `stack`: the
    fit's StackedSeries of `prepared.arrays`, reused rather than rebuilt."""
    h, season = cfg.forecast.horizon, cfg.evaluation.season
    prepared.state.pop("blend", None)
    if cfg.model.blend_baselines and (blend := fit_validation_blend(model, prepared, cfg, stack)):
        prepared.state["blend"] = blend  # saved with the model: predict applies it too
        get_run_logger().info("blend weights per step (model, naive, seasonal naive), fitted on "
                              "validation: %s", [[round(w, 2) for w in r] for r in blend["weights"]])
    qhat = levels = None
    if model.n_q > 1:
        stack, ends, qhat = predict_quantiles(model, prepared.arrays, cfg, "test", stack)
        zhat, levels = qhat[..., model.median_index], cfg.model.quantiles
    else:
        stack, ends, zhat = predict_origins(model, prepared.arrays, cfg, "test", stack)
    fcs = collect_forecasts(prepared.arrays, stack, ends, zhat, prepared.state, h, season, qhat)
    metrics = score(fcs, h, levels)
    if blend := prepared.state.get("blend"):  # the model alone on the same points, for the report
        alone_state = {k: v for k, v in prepared.state.items() if k != "blend"}
        alone = collect_forecasts(prepared.arrays, stack, ends, zhat, alone_state, h, season)
        metrics["blend"] = blend_summary(blend, fcs, alone)
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
