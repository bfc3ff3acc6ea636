"""One trial: fit on each frame (the data, or K walk-forward folds), score on validation data
only, report every validation check to Optuna, and stop a trial whose curves are already sick.

The objective is the validation MAE in original units relative to naive's (geometric mean over
series): the training loss lives in the scaled, transformed target, so two trials with
different target transforms (or the same trial on two series) would not be comparable on it.
The test part of every series is never read: validation origins forecast validation rows only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared, prepare
from lstmflow.data.split import split_bounds
from lstmflow.fit.diagnosis import curves
from lstmflow.fit.diagnosis.record import Run

OBJECTIVE = "val_rel_mae"
STEP_STRIDE = 10_000  # report step = fold x STEP_STRIDE + check: the pruner compares like with like
# Findings that end a trial as soon as the recorded curves show them (error or warning).
SICK = (curves.divergence, curves.exploding_gradients, curves.plateau)


class Stopped(Exception):
    """A trial stopped before its end: pruned (`finding` names why) with the curves so far."""

    def __init__(self, finding: str, reason: str, history: list[dict[str, Any]]) -> None:
        super().__init__(reason)
        self.finding, self.reason, self.history = finding, reason, history


@dataclass
class Outcome:
    """A finished trial: its objective (mean over frames) and what each fit recorded."""

    value: float
    folds: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)  # best scaled val loss per fit
    checks: list[int] = field(default_factory=list)
    seconds: float = 0.0


def rel_mae(fcs: Sequence[Any]) -> float:
    """Model MAE over naive MAE per series on the scored points, geometric mean over series
    (inf when no series can be scored)."""
    logs = []
    for f in fcs:
        ok = f.ok
        if not ok.any():
            continue
        model = np.abs(f.preds["model"][ok] - f.actual[ok]).mean()
        naive = np.abs(f.preds["naive"][ok] - f.actual[ok]).mean()
        if naive > 0 and np.isfinite(model):
            logs.append(math.log(max(model, 1e-300) / naive))
    return math.exp(sum(logs) / len(logs)) if logs else math.inf


def val_score(model, prepared: Prepared, cfg: PipelineConfig, stack=None) -> float:
    """The objective on the validation part: every validation origin whose horizon ends inside
    it, forecast and inverted to original units next to naive's."""
    from lstmflow.fit.evaluate import collect_forecasts
    from lstmflow.fit.origins import predict_origins

    stack, ends, zhat = predict_origins(model, prepared.arrays, cfg, "val", stack)
    if not np.isfinite(zhat).all():
        return math.inf
    return rel_mae(collect_forecasts(prepared.arrays, stack, ends, zhat, prepared.state,
                                     cfg.forecast.horizon, cfg.evaluation.season))


def sick(history: list[dict[str, Any]], cfg: PipelineConfig) -> dict[str, Any] | None:
    """The first of divergence, exploding gradients, plateau that the curves so far show."""
    run = Run(history=history, config=cfg.model_dump(mode="json"))
    for detect in SICK:
        found = detect(run)
        if found is not None and found.severity in ("error", "warning"):
            return found.as_dict()
    return None


def fit_frame(frame: pd.DataFrame, cfg: PipelineConfig, trial: Any = None,
              fold: int = 0) -> tuple[float, Any]:
    """Prepare, fit and score one frame; (objective, TrainResult). Raises Stopped when the
    curves are sick or the pruner says so, FitDiverged-as-Stopped when no check was finite."""
    from lstmflow.fit.diagnosis import diagnose
    from lstmflow.fit.train import FitDiverged, train_model
    from lstmflow.tune.callback import TrialReporter

    bounds = split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size)
    prepared = prepare(frame, bounds, cfg)
    try:
        fit = train_model(prepared.arrays, cfg, log=lambda _: None,
                          extra_callbacks=[TrialReporter(trial, prepared, cfg, fold)])
    except FitDiverged as exc:
        found = diagnose(exc.history, None, None, cfg.model_dump(mode="json"))[0]
        raise Stopped(found["finding"], f"{found['finding']}: {found['evidence']}",
                      exc.history) from None
    return val_score(fit.model, prepared, cfg, fit.stack), fit


def evaluate(frames: Sequence[pd.DataFrame], cfg: PipelineConfig, trial: Any = None) -> Outcome:
    """The objective of `cfg` (a trial's config, already capped): the mean over `frames`."""
    start = time.perf_counter()
    out = Outcome(value=math.inf)
    for k, frame in enumerate(frames):
        value, fit = fit_frame(frame, cfg, trial, k)
        out.folds.append(value)
        out.val_loss.append(fit.best_val_loss)
        out.checks.append(len(fit.history))
    out.value = float(np.mean(out.folds))
    out.seconds = round(time.perf_counter() - start, 2)
    return out
