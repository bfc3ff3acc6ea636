"""The vocabulary of findings and what a detector reads: the recorded run, never the config."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

# The fixed vocabulary, in the order a report lists findings of equal severity. A new finding is
# added here and gets a remedy (remedies.REMEDIES) and a detector (DETECTORS).
VOCABULARY = (
    "divergence", "exploding_gradients", "vanishing_gradients", "overfitting", "underfitting",
    "plateau", "not_converged", "noisy_optimisation", "distribution_shift",
    "worse_than_baseline", "miscalibrated", "flat_forecast", "lagged_copy", "short_context",
    "no_signal", "linear_enough", "healthy",
)
Severity = Literal["info", "warning", "error"]
SEVERITIES = ("error", "warning", "info")  # worst first
# Findings that mean the fit itself broke: the run ends Failed and nothing is registered.
BROKEN = ("divergence",)


@dataclass
class Finding:
    """One diagnosis: an id from VOCABULARY, how bad, the numbers that show it, what to do."""

    finding: str
    severity: Severity
    evidence: str
    advice: str
    overrides: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)  # the series it names, worst first

    def __post_init__(self) -> None:
        if self.finding not in VOCABULARY:
            raise ValueError(f"unknown finding '{self.finding}'")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity '{self.severity}'")

    def as_dict(self) -> dict[str, Any]:
        out = {"finding": self.finding, "severity": self.severity, "evidence": self.evidence,
               "remedy": {"advice": self.advice, "overrides": list(self.overrides)}}
        if self.series:  # findings about particular series name them (the report plots them)
            out["series"] = list(self.series)
        return out


@dataclass
class Run:
    """What a training run recorded: per-epoch history, test metrics (None when the fit broke
    before evaluation), data statistics, and the config (read by remedies only, to compute
    new values; evidence never comes from it)."""

    history: list[dict[str, Any]]
    metrics: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    period: str = "test"  # the period `metrics` score ("validation" when repair judges a fit)

    def curve(self, key: str) -> np.ndarray:
        """One recorded value per epoch as floats, NaN where missing or non-finite. [E]"""
        return np.array([_num(h.get(key)) for h in self.history], dtype="float64")

    def median(self, key: str) -> float | None:
        """The median of `key`'s recorded values over the epochs, None when none is finite."""
        values = self.curve(key)
        return float(np.nanmedian(values)) if np.isfinite(values).any() else None

    def total(self, key: str) -> int:
        return int(sum(h.get(key) or 0 for h in self.history))

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def unit(self) -> str:
        """What a history row is, as the training log names it: a validation 'check' under a
        step budget, an 'epoch' under training.max_epochs or when the config is unknown."""
        t = (self.config or {}).get("training") or {}
        return "check" if self.config is not None and t.get("max_epochs") is None else "epoch"

    @property
    def span(self) -> str:
        """The training between two rows: 'validation period' or 'epoch'."""
        return "validation period" if self.unit == "check" else "epoch"

    def at(self, i: int) -> str:
        """Row i as people find it in the training log: 'check 3 (step 384)' or 'epoch 3'."""
        step = self.history[i].get("step") if 0 <= i < len(self.history) else None
        if self.unit == "check" and isinstance(step, int):
            return f"check {epoch_no(i)} (step {step})"
        return f"{self.unit} {epoch_no(i)}"

    def layers(self) -> list[str]:
        """Layers with recorded gradient norms, input side first (`lstm.l0`, ..., `head`)."""
        names = {k.split(":", 1)[1] for h in self.history for k in h
                 if k.startswith("grad_norm_mean:")}
        lstm = sorted((n for n in names if n.startswith("lstm.l")), key=lambda n: int(n[6:]))
        return lstm + sorted(n for n in names if not n.startswith("lstm.l"))

    def overall(self, method: str) -> dict[str, Any] | None:
        return ((self.metrics or {}).get("overall") or {}).get(method)

    def series_stats(self) -> dict[str, dict[str, Any]]:
        return (self.stats or {}).get("per_series") or {}

    def shapes(self) -> dict[str, dict[str, Any]]:
        """Per series, how the test forecasts move next to the actuals (evaluate's `shape`)."""
        return (self.metrics or {}).get("shape") or {}

    def series_metrics(self, sid: str, method: str = "model") -> dict[str, Any]:
        return (((self.metrics or {}).get("per_series") or {}).get(sid) or {}).get(method) or {}


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


def fmt(v: float | None, digits: int = 4) -> str:
    """A number as people read it: 4 significant digits, no exponent below 1e-4..1e6 range."""
    if v is None or not math.isfinite(v):
        return "n/a"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-4):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}"


def pct(ratio: float) -> str:
    """A relative change as a percentage: 0.543 -> '54%', 0.0123 -> '1.2%'."""
    p = 100 * ratio
    return f"{p:.2g}%" if abs(p) < 10 else f"{p:.0f}%"


def versus(ratio: float) -> str:
    """A ratio to a reference in words: 1.36 -> '36% above', 0.42 -> '58% below', 1.00002 ->
    'equal to' (a blend that serves the baseline itself reads 1: not '0% above')."""
    if abs(ratio - 1) < 5e-4:
        return "equal to"
    return f"{pct(ratio - 1)} above" if ratio >= 1 else f"{pct(1 - ratio)} below"


def epoch_no(i: int) -> int:
    """History rows count epochs from 0; people count from 1."""
    return int(i) + 1
