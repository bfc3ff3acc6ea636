"""Callbacks that record the fit for diagnosis and keep the best weights."""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch


class HistoryRecorder(pl.Callback):
    """Per-epoch train/val loss, learning rate and gradient norms, as plain dicts."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, Any]] = []
        self._grad_norms: list[float] = []
        self._nonfinite = 0

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        norms = [p.grad.detach().norm() for p in pl_module.parameters() if p.grad is not None]
        if norms:
            total = float(torch.linalg.vector_norm(torch.stack(norms)))
            if math.isfinite(total):
                self._grad_norms.append(total)
            else:
                self._nonfinite += 1

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        m = trainer.callback_metrics
        g = self._grad_norms or [float("nan")]
        self.epochs.append(
            {
                "epoch": trainer.current_epoch,
                "train_loss": _f(m.get("train_loss")),
                "val_loss": _f(m.get("val_loss")),
                "lr": float(trainer.optimizers[0].param_groups[0]["lr"]),
                "grad_norm_mean": sum(g) / len(g),
                "grad_norm_max": max(g),
                "nonfinite_grads": self._nonfinite,
            }
        )
        self._grad_norms, self._nonfinite = [], 0


class BestWeights(pl.Callback):
    """Remember the weights of the best validation epoch and put them back when fitting ends."""

    def __init__(self, monitor: str = "val_loss") -> None:
        self.monitor = monitor
        self.best = math.inf
        self.best_epoch = -1
        self.state: dict[str, torch.Tensor] | None = None

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        v = _f(trainer.callback_metrics.get(self.monitor))
        if v is not None and v < self.best:
            self.best, self.best_epoch = v, trainer.current_epoch
            self.state = copy.deepcopy(pl_module.state_dict())

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.state is not None:
            pl_module.load_state_dict(self.state)


class EpochLogger(pl.Callback):
    """One log line per epoch, so Prefect's UI shows progress of a long fit."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self._emit = log or logging.getLogger("lstmflow").info

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        m = trainer.callback_metrics
        self._emit(
            f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}: "
            f"train_loss={_f(m.get('train_loss'))} val_loss={_f(m.get('val_loss'))}"
        )


def _f(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None
