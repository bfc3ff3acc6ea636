"""What the core returns: a fitted model (what a registry version holds), one fit (that model
with the data it was fitted on and what the fit recorded), forecasts and an evaluation.

Frozen dataclasses: a fit's state is returned, never written into an argument. The fitted
state a model needs to turn its scaled forecasts into levels (`Fitted.state`: scalers,
imputer, feature state, and the validation-fitted blend) travels with the model everywhere a
forecast becomes a number in original units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.fit.evaluate import SeriesForecast
from lstmflow.fit.train import TrainResult

FITTED = ("blend", "intervals")  # what a fit adds to the prepared data's state


@dataclass(frozen=True)
class Fitted:
    """A model ready to forecast: its config, the network and the JSON-safe fitted state."""

    cfg: PipelineConfig
    model: Any  # models.lstm.LSTMForecaster after a fit, models.net.LSTMNet when loaded
    state: dict[str, Any]

    @property
    def blend(self) -> dict[str, Any] | None:
        return self.state.get("blend")

    def alone(self) -> Fitted:
        """The same network without what a fit adds to its state (FITTED: the blend, the
        intervals): the model alone, as validation compares networks."""
        return Fitted(self.cfg, self.model,
                      {k: v for k, v in self.state.items() if k not in FITTED})


@dataclass(frozen=True)
class Forecasts:
    """Every origin of a split, per series, in original units next to the baselines (blended
    as the fitted state says), and the quantile levels of an interval (None: point loss)."""

    series: list[SeriesForecast]
    levels: list[float] | None = None
    finite: bool = True  # every scaled forecast of the network was finite


@dataclass(frozen=True)
class FitResult:
    """One fit: the prepared data, the trained network (None when the fit diverged or never
    produced a finite validation loss: `error` says so), the recorded curves, the blend fitted
    on the validation part, and the model's own validation forecasts (unblended)."""

    cfg: PipelineConfig
    prepared: Prepared
    train: TrainResult | None
    history: list[dict[str, Any]]
    seconds: float
    blend: dict[str, Any] | None = None
    val_forecasts: Forecasts | None = None  # the validation origins, the model alone
    error: str | None = None
    intervals: dict[str, Any] | None = None  # conformal quantiles fitted on validation
    calibration_seconds: float = 0.0  # what fitting the intervals took

    @property
    def ok(self) -> bool:
        """Whether the fit left a model."""
        return self.train is not None

    @property
    def model(self) -> Any:
        return self.train.model if self.train is not None else None

    @property
    def stack(self) -> Any:
        """The StackedSeries the fit read (predictions on the same arrays reuse it)."""
        return self.train.stack if self.train is not None else None

    @property
    def state(self) -> dict[str, Any]:
        """The prepared data's fitted state with this fit's blend and intervals: what a
        version saves and what turns its forecasts into levels."""
        out = {k: v for k, v in self.prepared.state.items() if k not in FITTED}
        for key, value in (("blend", self.blend), ("intervals", self.intervals)):
            if value:
                out[key] = value
        return out

    @property
    def fitted(self) -> Fitted:
        if self.train is None:
            raise ValueError(f"the fit left no model: {self.error}")
        return Fitted(self.cfg, self.train.model, self.state)


@dataclass(frozen=True)
class Evaluation:
    """Metrics of model, naive and seasonal naive on the same points, and those points."""

    metrics: dict[str, Any]
    forecasts: Forecasts


@dataclass(frozen=True)
class Diagnosis:
    """The findings of a fit, worst first (`{finding, severity, evidence, remedy}`), and the
    data statistics they were read from."""

    findings: list[dict[str, Any]]
    stats: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """A fit, its evaluation on the test part (None when the fit left no model) and its
    diagnosis: what `Forecaster.run` returns (a backtest fold, a script, a benchmark)."""

    fit: FitResult
    evaluation: Evaluation | None
    diagnosis: Diagnosis

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.fit.history

    @property
    def metrics(self) -> dict[str, Any] | None:
        return self.evaluation.metrics if self.evaluation is not None else None

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.diagnosis.findings

    @property
    def stats(self) -> dict[str, Any]:
        return self.diagnosis.stats
