"""What a trial reports and what stops it: the objective on validation forecasts (MAE relative
to naive's, in original units) and the findings of the curves that end a trial early.

The objective is the validation MAE in original units relative to naive's (geometric mean over
series): the training loss lives in the scaled, transformed target, so two trials with
different target transforms (or the same trial on two series) would not be comparable on it.
The test part of every series is never read: validation origins forecast validation rows only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmflow.config import PipelineConfig
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


def objective(forecasts: Any) -> float:
    """The trial's objective from the core's validation Forecasts: inf when the network
    forecast anything non-finite."""
    return rel_mae(forecasts.series) if forecasts.finite else math.inf


def sick(history: list[dict[str, Any]], cfg: PipelineConfig) -> dict[str, Any] | None:
    """The first of divergence, exploding gradients, plateau that the curves so far show."""
    run = Run(history=history, config=cfg.model_dump(mode="json"))
    for detect in SICK:
        found = detect(run)
        if found is not None and found.severity in ("error", "warning"):
            return found.as_dict()
    return None
