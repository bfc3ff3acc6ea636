"""The Lightning callback that connects a fit to its Optuna trial (imports Lightning: load it
only where a fit runs)."""

from __future__ import annotations

import math
from typing import Any

import pytorch_lightning as pl

from lstmflow.config import PipelineConfig
from lstmflow.core import Fitted, Forecaster
from lstmflow.data.prepare import Prepared
from lstmflow.tune.signals import STEP_STRIDE, Stopped, objective, sick
from models.callbacks import HistoryRecorder


class TrialReporter(pl.Callback):
    """After each validation check: the objective at the current weights goes to
    `trial.report` (step = fold x STEP_STRIDE + check); the diagnosis of the curves so far, then
    the median pruner (past `tune.warmup_checks`), may stop the fit by raising Stopped.
    `trial` None: the diagnosis alone (the default config scored as a trial would be)."""

    def __init__(self, trial: Any, prepared: Prepared, cfg: PipelineConfig, fold: int) -> None:
        self.trial, self.prepared, self.cfg, self.fold = trial, prepared, cfg, fold

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        recorder = next(c for c in trainer.callbacks if isinstance(c, HistoryRecorder))
        history = list(recorder.epochs)  # this check's row is in: the recorder runs first
        now = Fitted(self.cfg, pl_module, self.prepared.state)  # the weights at this check
        value = objective(Forecaster(self.cfg).split_forecasts(now, self.prepared, "val"))
        pl_module.train()  # prediction left the module in eval mode
        check, tune = len(history), self.cfg.tune
        if self.trial is not None and math.isfinite(value):
            self.trial.report(value, self.fold * STEP_STRIDE + check)
        found = sick(history, self.cfg) if tune.diagnose else None
        if found is not None:
            raise Stopped(found["finding"], f"{found['finding']}: {found['evidence']}", history)
        if self.trial is not None and tune.prune == "median" and check > tune.warmup_checks \
                and self.trial.should_prune():
            raise Stopped("median", f"median: validation error {value:.4g} at check {check} of "
                          f"fold {self.fold} is worse than the median of earlier trials there",
                          history)
