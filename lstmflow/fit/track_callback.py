"""The Lightning callback that sends each validation check's recorded row (losses, learning
rate, per-layer gradient norms) to the run's tracker (imports Lightning: load it only where a
fit runs)."""

from __future__ import annotations

import pytorch_lightning as pl

from lstmflow.fit.tracking import Run, log_metrics, logger_for
from models.callbacks import HistoryRecorder


class TrackCurves(pl.Callback):
    """After each check, the row the HistoryRecorder just wrote, at the fit's global step."""

    def __init__(self, run: Run) -> None:
        self.run, self.logger = run, None

    def on_fit_start(self, trainer, pl_module) -> None:
        self.logger = logger_for(self.run)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        recorder = next(c for c in trainer.callbacks if isinstance(c, HistoryRecorder))
        if recorder.epochs and self.logger is not None:
            log_metrics(self.run, recorder.epochs[-1], trainer.global_step, self.logger)
