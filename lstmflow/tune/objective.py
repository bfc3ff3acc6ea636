"""One trial: fit on each frame (the data, or K walk-forward folds) through the core's
Forecaster, score on validation data only (lstmflow.tune.signals), report every validation
check to Optuna, and stop a trial whose curves are already sick.
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
from lstmflow.core import Forecaster
from lstmflow.tune.signals import OBJECTIVE, STEP_STRIDE, Stopped, objective, sick

__all__ = ["OBJECTIVE", "STEP_STRIDE", "Outcome", "Stopped", "evaluate", "fit_frame", "sick"]


@dataclass
class Outcome:
    """A finished trial: its objective (mean over frames) and what each fit recorded."""

    value: float
    folds: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)  # best scaled val loss per fit
    checks: list[int] = field(default_factory=list)
    seconds: float = 0.0


def fit_frame(frame: pd.DataFrame, cfg: PipelineConfig, trial: Any = None,
              fold: int = 0, track: Any = None) -> tuple[float, Any]:
    """Prepare, fit and score one frame; (objective, the core's FitResult). Raises Stopped
    when the curves are sick or the pruner says so, and when no check was finite."""
    from lstmflow.tune.callback import TrialReporter

    forecaster = Forecaster(cfg)
    prepared = forecaster.prepare(frame)
    fit = forecaster.fit(prepared, log=lambda _: None, track=track,
                         callbacks=[TrialReporter(trial, prepared, cfg, fold)])
    if not fit.ok:
        found = forecaster.diagnose(fit).findings[0]
        raise Stopped(found["finding"], f"{found['finding']}: {found['evidence']}",
                      fit.history) from None
    return objective(fit.val_forecasts), fit


def evaluate(frames: Sequence[pd.DataFrame], cfg: PipelineConfig, trial: Any = None,
             track: Any = None) -> Outcome:
    """The objective of `cfg` (a trial's config, already capped): the mean over `frames`;
    `track`: the trial's tracker run its fits log their checks to."""
    start = time.perf_counter()
    out = Outcome(value=math.inf)
    for k, frame in enumerate(frames):
        value, fit = fit_frame(frame, cfg, trial, k, track)
        out.folds.append(value)
        out.val_loss.append(fit.train.best_val_loss)
        out.checks.append(len(fit.history))
    out.value = float(np.mean(out.folds))
    out.seconds = round(time.perf_counter() - start, 2)
    return out
