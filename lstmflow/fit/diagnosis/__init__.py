"""Why a fit went wrong, and what to change: findings from what the run recorded.

`diagnose(history, metrics, stats, config)` runs every detector over the recorded per-epoch
history, the test metrics (with the shape of the forecasts) and the data statistics
(`data_stats`), and returns findings
`{finding, severity, evidence, remedy: {advice, overrides}}`, worst first. Evidence quotes the
run's own numbers; the config is read only to compute remedy values. A run with no warning or
error gets one `healthy` finding. To add a finding: its id in `record.VOCABULARY`, a remedy
in `remedies.REMEDIES`, a detector in `DETECTORS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lstmflow.fit.diagnosis import calibrated, curves, forecasts, noise, outcome
from lstmflow.fit.diagnosis.record import BROKEN, SEVERITIES, VOCABULARY, Finding, Run
from lstmflow.fit.diagnosis.stats import data_stats

__all__ = ["BROKEN", "DETECTORS", "SEVERITIES", "VOCABULARY", "blocking", "data_stats",
           "diagnose", "fit_broken", "headline"]

DETECTORS: tuple[Callable[[Run], Finding | None], ...] = (
    curves.divergence, curves.exploding_gradients, curves.vanishing_gradients,
    curves.overfitting, outcome.underfitting, curves.plateau, curves.not_converged,
    noise.noisy_optimisation, outcome.distribution_shift, outcome.worse_than_baseline,
    calibrated.miscalibrated, forecasts.flat_forecast, forecasts.lagged_copy,
    forecasts.short_context, outcome.no_signal, outcome.linear_enough,
)


def diagnose(
    history: list[dict[str, Any]],
    metrics: dict[str, Any] | None = None,
    stats: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    period: str = "test",
) -> list[dict[str, Any]]:
    """Findings from a run's recorded history, test metrics (None when the fit broke before
    evaluation) and data statistics, worst first; `period` names what `metrics` scored in the
    evidence ('validation' when automatic repair judges a fit without reading the test part)."""
    run = Run(history=history, metrics=metrics, stats=stats, config=config, period=period)
    found = outcome.expected_on_walks(
        [f for detect in DETECTORS if (f := detect(run)) is not None], run)
    if all(f.severity == "info" for f in found):
        found.append(outcome.healthy(run))
    found.sort(key=lambda f: (SEVERITIES.index(f.severity), VOCABULARY.index(f.finding)))
    return [f.as_dict() for f in found]


def blocking(findings: list[dict[str, Any]]) -> list[str]:
    """Ids of error-level findings: each one keeps the model from being promoted."""
    return [f["finding"] for f in findings if f["severity"] == "error"]


def fit_broken(findings: list[dict[str, Any]]) -> bool:
    """Whether the fit itself broke (non-finite or exploded losses): the run ends Failed."""
    return any(f["finding"] in BROKEN and f["severity"] == "error" for f in findings)


def headline(findings: list[dict[str, Any]]) -> str:
    """One line for logs and failure messages: the worst findings by name."""
    if not findings:
        return "no diagnosis"
    worst = findings[0]["severity"]
    names = [f["finding"] for f in findings if f["severity"] == worst]
    return f"diagnosis: {worst}: {', '.join(names)}"
