"""The Forecaster: the one place the chain split > prepare > fit > blend > forecast > evaluate >
diagnose is put together (plain Python, no Prefect).

In the spirit of neuralforecast's core and scikit-learn's estimators: built from a
`PipelineConfig`, `fit` returns a typed `FitResult` and writes into nothing it was given. The
training flow's tasks, repair attempts, backtest folds, tune trials, init's short fits, the
champion's re-scoring at promotion and predict all call it; they differ only in what they pass
in (a run folder to checkpoint into, a callback, a time limit, a saved model).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.core.result import (
    Diagnosis,
    Evaluation,
    FitResult,
    Fitted,
    Forecasts,
    Outcome,
)
from lstmflow.data.prepare import Prepared, prepare
from lstmflow.data.split import Bounds, split_bounds
from lstmflow.fit.blend import blend_summary, fit_blend
from lstmflow.fit.diagnosis import data_stats, diagnose
from lstmflow.fit.evaluate import collect_forecasts, score
from lstmflow.fit.intervals import fit_intervals

Log = Callable[[str], None]


class Forecaster:
    """How to fit, forecast, score and explain one LSTM forecaster of `cfg`.

    Methods that take a `FitResult` or a `Fitted` read the shapes (window, horizon, transform)
    from the fitted config, so a repair attempt's fit is evaluated as it was fitted.
    """

    def __init__(self, cfg: PipelineConfig) -> None:
        self.cfg = cfg

    # --- data -------------------------------------------------------------------------------
    def split(self, frame: pd.DataFrame) -> dict[str, Bounds]:
        """Per series: train rows, then val_size rows, then test_size rows, in time order."""
        e = self.cfg.evaluation
        return split_bounds(frame, e.val_size, e.test_size)

    def prepare(self, frame: pd.DataFrame, bounds: dict[str, Bounds] | None = None) -> Prepared:
        """Impute, add features, transform and scale, fitted on each series' training rows."""
        return prepare(frame, bounds if bounds is not None else self.split(frame), self.cfg)

    @staticmethod
    def apply(fitted: Fitted, frame: pd.DataFrame, bounds: dict[str, Bounds]) -> Prepared:
        """A saved model's fitted state applied to new rows (nothing is refitted)."""
        return prepare(frame, bounds, fitted.cfg, state=fitted.state)

    # --- fit --------------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame | Prepared, bounds: dict[str, Bounds] | None = None, *,
            run_dir: Path | None = None, resume: bool = False, log: Log | None = None,
            progress: bool = False, callbacks: Sequence[Any] = (),
            checkpoint_kind: str | None = None, time_limit_s: float | None = None,
            init: Any = None, share: float | None = None, track: Any = None,
            calibration: tuple[str, pd.DataFrame] | None = None,
            lr_scale: float = 1.0) -> FitResult:
        """Prepare `data` (unless already prepared), train within the budget (lr find when
        `learning_rate: auto`), forecast the validation origins and fit the blend on them.

        `run_dir`: checkpoint there (and `resume` from it); `time_limit_s`: a tighter wall
        time than the config's (a repair attempt's share); `init`: a network of the same shape
        to start from (a warm start: the champion's, or a repair's parent), trained over
        `share` of the step budget (default `training.warm_steps`) at `lr_scale` of the learning
        rate (a warm start from the champion: `training.warm_lr_scale`); `track`: the tracker run
        (lstmflow.fit.tracking) each validation check is logged to; `calibration`: (where from,
        scores) to calibrate the intervals on instead of the validation errors (a backtest's
        out-of-sample errors: lstmflow.fit.intervals.score_table). A fit that produces no finite
        validation loss returns a result with no model and its recorded curves (`error`);
        errors in the data or config raise (TrainingError, DataError, ConfigError).
        """
        from lstmflow.fit.train import FitDiverged, train_model

        prepared = data if isinstance(data, Prepared) else self.prepare(data, bounds)
        try:
            network = init.model if isinstance(init, Fitted) else init
            share = share if share is not None or init is None else self.cfg.training.warm_steps
            train = train_model(prepared.arrays, self._timed(time_limit_s), log=log,
                                progress=progress, run_dir=run_dir, resume=resume,
                                extra_callbacks=callbacks, checkpoint_kind=checkpoint_kind,
                                init=network, share=share, track=track, lr_scale=lr_scale)
        except FitDiverged as exc:
            return FitResult(self.cfg, prepared, None, exc.history, exc.seconds, error=str(exc))
        model_alone = Fitted(self.cfg, train.model, prepared.state)
        val = self.split_forecasts(model_alone, prepared, "val", train.stack)
        blend = self._blend(val.series)
        start = time.perf_counter()
        where, scores = calibration or ("validation", None)
        intervals = fit_intervals(val.series, self.cfg.forecast.intervals,
                                  self.cfg.forecast.horizon, blend, scores, where)
        return FitResult(self.cfg, prepared, train, train.history, train.seconds, blend, val,
                         intervals=intervals,
                         calibration_seconds=round(time.perf_counter() - start, 4))

    def _timed(self, limit_s: float | None) -> PipelineConfig:
        """The config to train with: the time budget cut to `limit_s` seconds when given."""
        if limit_s is None:
            return self.cfg
        minutes = round(max(limit_s / 60, 1e-3), 4)
        return self.cfg.model_copy(update={"training": self.cfg.training.model_copy(
            update={"max_time_minutes": minutes})})

    def validation_blend(self, fitted: Fitted, prepared: Prepared) -> dict[str, Any] | None:
        """The blend `fit` would fit for this model on these prepared data (validation only)."""
        return self._blend(self.split_forecasts(fitted.alone(), prepared, "val").series)

    def _blend(self, val: list) -> dict[str, Any] | None:
        """Per-step weights toward naive and seasonal naive, fitted on validation forecasts
        only (none when `model.blend_baselines` is off or no validation point is scored)."""
        cfg = self.cfg
        scored = [f for f in val if f.ok.any()]
        if not cfg.model.blend_baselines or not scored:
            return None
        return fit_blend(scored, cfg.forecast.horizon, cfg.evaluation.season,
                         tolerance_se=cfg.model.blend_tolerance_se)

    # --- forecasts and scores ---------------------------------------------------------------
    def split_forecasts(self, fitted: Fitted, prepared: Prepared, split: str = "test",
                        stack: Any = None) -> Forecasts:
        """Every origin of `split` whose horizon ends inside it, in original units, next to
        naive and seasonal naive (this forecaster's `evaluation.season`), blended as the
        fitted state says; the outer quantiles as an interval under the quantile loss."""
        from lstmflow.fit.origins import predict_quantiles

        cfg, model = fitted.cfg, fitted.model
        stack, ends, qhat = predict_quantiles(model, prepared.arrays, cfg, split, stack)
        zhat = qhat[..., model.median_index]  # [N, H]
        quantiles = model.n_q > 1
        series = collect_forecasts(prepared.arrays, stack, ends, zhat, fitted.state,
                                   cfg.forecast.horizon, self.cfg.evaluation.season,
                                   qhat if quantiles else None)
        return Forecasts(series, list(cfg.model.quantiles) if quantiles else None,
                         bool(np.isfinite(qhat).all()))

    def score(self, forecasts: Forecasts) -> dict[str, Any]:
        """Metrics of every method overall, per series and per horizon step."""
        return score(forecasts.series, self.cfg.forecast.horizon, forecasts.levels)

    def evaluate(self, fit: FitResult | Fitted, prepared: Prepared | None = None,
                 split: str = "test") -> Evaluation:
        """Forecast every origin of `split` (the test part by default) and score model, naive
        and seasonal naive on the same points; with a blend, the model alone beside it."""
        if isinstance(fit, FitResult):
            fitted, prepared, stack = fit.fitted, fit.prepared, fit.stack
        else:
            fitted, stack = fit, None
        forecasts = self.split_forecasts(fitted, prepared, split, stack)
        metrics = self.score(forecasts)
        if fitted.blend and metrics["overall"]:
            metrics["blend"] = blend_summary(fitted.blend, forecasts.series)
        if "calibration" in metrics:  # how the intervals were made, beside how they held
            cal = fitted.state["intervals"]
            metrics["calibration"].update(method=cal["method"], scores_per_step=cal["n"],
                                          calibrated_on=cal.get("calibrated_on", "validation"))
        return Evaluation(metrics, forecasts)

    # --- diagnosis --------------------------------------------------------------------------
    def data_stats(self, prepared: Prepared, cfg: PipelineConfig | None = None
                   ) -> dict[str, Any]:
        """Per series: the scaled target's moments per split, its predictability and shortest
        cycle, next to the window `cfg` (default: this forecaster's) reads."""
        c = cfg or self.cfg
        return data_stats(prepared.arrays, c.evaluation.season, c.forecast.horizon,
                          c.forecast.input_size)

    def diagnose(self, fit: FitResult, metrics: dict[str, Any] | None = None, *,
                 period: str = "test", stats: dict[str, Any] | None = None) -> Diagnosis:
        """Findings from the fit's recorded curves, `metrics` on `period` and the data's
        statistics (computed for the fit's own window unless given); on 'validation' the test
        part's statistics are left out, so nothing of the test part steers a choice made with
        it (repair)."""
        stats = stats if stats is not None else self.data_stats(fit.prepared, fit.cfg)
        if fit.ok and fit.cfg.model.highway and "highway" not in stats:
            stats = {**stats, "highway": self.highway_contrast(fit)}
        read = without_test(stats) if period == "validation" else stats
        return Diagnosis(diagnose(fit.history, metrics, read, diagnosis_config(fit), period),
                         stats)

    def highway_contrast(self, fit: FitResult) -> dict[str, Any]:
        """Validation MAE (model alone, original units, the same points) of the whole network
        and of its linear highway alone: whether the LSTM adds anything (linear_enough)."""
        from models.net import highway_alone

        fitted = fit.fitted
        whole = self.score(fit.val_forecasts)  # the fit's own: the model alone on validation
        with highway_alone(fitted.model):
            linear = self.score(self.split_forecasts(fitted.alone(), fit.prepared, "val",
                                                     fit.stack))
        model, line = (whole["overall"] or {}).get("model") or {}, \
            (linear["overall"] or {}).get("model") or {}
        return {"model_mae": model.get("mae"), "highway_mae": line.get("mae"),
                "points": model.get("points", 0)}

    def run(self, data: pd.DataFrame | Prepared, bounds: dict[str, Bounds] | None = None,
            **fit_kw: Any) -> Outcome:
        """Fit, evaluate on the test part, diagnose: the training flow's steps without its
        gates, repair and registry (a backtest fold, a script, a benchmark)."""
        fit = self.fit(data, bounds, **fit_kw)
        evaluation = self.evaluate(fit) if fit.ok else None
        return Outcome(fit, evaluation, self.diagnose(fit, evaluation and evaluation.metrics))

    # --- serving ----------------------------------------------------------------------------
    @staticmethod
    def forecast(fitted: Fitted, frame: pd.DataFrame, future: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, list[str]]:
        """The next horizon of every series from its last row (what predict serves): the
        fitted state applied, never refitted; `future`: rows after the last observation that
        hold the known-ahead covariates. The table and a warning per series that cannot be
        forecast."""
        from lstmflow.core.serve import forecast_next

        return forecast_next(fitted, frame, future)

    @staticmethod
    def save(fitted: Fitted, root: Path, version: str, record: Any) -> Path:
        """Write `fitted` as registry version `version` (verified format: safetensors, JSON
        state, a manifest sealing them with `record`, a lstmflow.records.manifest.Manifest),
        all or nothing."""
        from lstmflow.serve.registry import save_version

        return save_version(root, version, fitted.model, fitted.state, record)

    @staticmethod
    def load(path: Path) -> tuple[Fitted, Any]:
        """A registry version, its files verified first: (Fitted, the Version with its
        manifest)."""
        from lstmflow.config import build_config
        from lstmflow.serve.registry import load_version

        version = load_version(path)
        return Fitted(build_config(version.config), version.model, version.state), version


def diagnosis_config(fit: FitResult) -> dict[str, Any]:
    """The config remedies compute from, with `learning_rate: auto` replaced by the rate the
    fit started from (or the first recorded one when the fit left no model): a remedy such as
    'a tenth of the rate' needs a number."""
    raw = fit.cfg.model_dump(mode="json")
    if raw["training"]["learning_rate"] == "auto":
        rate = fit.train.learning_rate if fit.train is not None else next(
            (h["lr"] for h in fit.history if isinstance(h.get("lr"), int | float)), None)
        if rate is not None:
            raw["training"]["learning_rate"] = float(rate)
    return raw


def without_test(stats: dict[str, Any]) -> dict[str, Any]:
    """Data statistics with the test part's moments left out (a test-period shift must not
    steer a repair)."""
    per = {}
    for sid, s in (stats.get("per_series") or {}).items():
        per[sid] = {k: v for k, v in s.items() if k != "test"}
        if isinstance(s.get("level"), dict):  # the test part's level too
            per[sid]["level"] = {k: v for k, v in s["level"].items() if k != "test"}
    return {**stats, "per_series": per}

