"""One fit and its diagnosis as plain functions (no Prefect): train > evaluate > diagnose.

What the training flow does between its gates and the registry, for scripts, notebooks, the
benchmark, backtest folds and tests; a fit that diverges still returns its recorded history
and diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.fit.blend import refit_blend
from lstmflow.fit.diagnosis import data_stats, diagnose
from lstmflow.fit.evaluate import SeriesForecast, collect_forecasts, score
from lstmflow.fit.origins import predict_origins, predict_quantiles
from lstmflow.fit.train import FitDiverged, TrainResult, train_model


@dataclass
class Attempt:
    history: list[dict[str, Any]]
    metrics: dict[str, Any] | None  # None when the fit produced no model
    stats: dict[str, Any]
    findings: list[dict[str, Any]]
    fit: TrainResult | None
    forecasts: list[SeriesForecast] | None = None  # the scored test forecasts, per series


def forecast_test(model, prepared: Prepared, cfg: PipelineConfig,
                  stack=None) -> tuple[list[SeriesForecast], list[float] | None]:
    """Every test origin's forecasts in original units next to the baselines' (with the
    model's interval under the quantile loss), and the quantile levels (None: point loss).
    `stack`: the fit's StackedSeries of `prepared.arrays`, reused rather than rebuilt."""
    qhat = levels = None
    if model.n_q > 1:
        stack, ends, qhat = predict_quantiles(model, prepared.arrays, cfg, "test", stack)
        zhat, levels = qhat[..., model.median_index], list(cfg.model.quantiles)
    else:
        stack, ends, zhat = predict_origins(model, prepared.arrays, cfg, "test", stack)
    fcs = collect_forecasts(prepared.arrays, stack, ends, zhat, prepared.state,
                            cfg.forecast.horizon, cfg.evaluation.season, qhat)
    return fcs, levels


def fit_and_diagnose(prepared: Prepared, cfg: PipelineConfig) -> Attempt:
    """Train on prepared arrays, score the test part as a training run does, diagnose what was
    recorded."""
    fit, metrics, fcs = None, None, None
    try:
        fit = train_model(prepared.arrays, cfg)
        history = fit.history
        refit_blend(fit.model, prepared, cfg, fit.stack)  # as a training run scores its test part
        fcs, levels = forecast_test(fit.model, prepared, cfg, fit.stack)
        metrics = score(fcs, cfg.forecast.horizon, levels)
    except FitDiverged as exc:
        history = exc.history
    stats = data_stats(prepared.arrays, cfg.evaluation.season, cfg.forecast.horizon,
                       cfg.forecast.input_size)
    findings = diagnose(history, metrics, stats, diagnosis_config(cfg, fit, history))
    return Attempt(history, metrics, stats, findings, fit, fcs)


def diagnosis_config(cfg: PipelineConfig, fit: TrainResult | None,
                     history: list[dict[str, Any]]) -> dict[str, Any]:
    """The config remedies compute from, with `learning_rate: auto` replaced by the rate the
    fit started from (or the first recorded one when the fit left no model): a remedy such as
    'a tenth of the rate' needs a number."""
    raw = cfg.model_dump(mode="json")
    if raw["training"]["learning_rate"] == "auto":
        rate = fit.learning_rate if fit is not None else next(
            (h["lr"] for h in history if isinstance(h.get("lr"), int | float)), None)
        if rate is not None:
            raw["training"]["learning_rate"] = float(rate)
    return raw
