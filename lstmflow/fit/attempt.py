"""One fit and its diagnosis as plain functions (no Prefect): train > evaluate > diagnose.

What the training flow does between its gates and the registry, for scripts, notebooks, the
benchmark and tests; a fit that diverges still returns its recorded history and diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.fit.diagnosis import data_stats, diagnose
from lstmflow.fit.evaluate import evaluate
from lstmflow.fit.train import FitDiverged, TrainResult, predict_origins, train_model


@dataclass
class Attempt:
    history: list[dict[str, Any]]
    metrics: dict[str, Any] | None  # None when the fit produced no model
    stats: dict[str, Any]
    findings: list[dict[str, Any]]
    fit: TrainResult | None


def fit_and_diagnose(prepared: Prepared, cfg: PipelineConfig) -> Attempt:
    """Train on prepared arrays, score the test part, diagnose what was recorded."""
    fit, metrics = None, None
    try:
        fit = train_model(prepared.arrays, cfg)
        history = fit.history
        stack, ends, zhat = predict_origins(fit.model, prepared.arrays, cfg, "test")
        metrics = evaluate(prepared.arrays, stack, ends, zhat, prepared.state,
                           cfg.forecast.horizon, cfg.evaluation.season)
    except FitDiverged as exc:
        history = exc.history
    stats = data_stats(prepared.arrays, cfg.evaluation.season, cfg.forecast.horizon,
                       cfg.forecast.input_size)
    findings = diagnose(history, metrics, stats, diagnosis_config(cfg, fit, history))
    return Attempt(history, metrics, stats, findings, fit)


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
