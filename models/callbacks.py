"""Callbacks that record the fit for diagnosis, keep the best weights and log progress.

Their state goes into Lightning's checkpoint (plain tensors, floats and lists, loadable with
`weights_only=True`), so a resumed fit keeps the history and the best weights of the epochs
before the interruption.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch


class HistoryRecorder(pl.Callback):
    """Per-epoch curves for diagnosis: losses, learning rate, gradient norms, loss noise, and
    how far the weights moved.

    Gradient norms are taken before clipping (what the loss asked for), per layer and in total,
    with one `torch._foreach_norm` per step, accumulated in float64: a float32 sum of squares
    overflows at norms near 1.8e19 and would call large but finite gradients non-finite.
    `grad_norm_clipped_max` is the norm the optimiser actually applied, read after clipping.
    `*_loss_zero` is the loss of a constant forecast (the training centre of the scaled target)
    on the same targets: the yardstick that says whether the model learned anything.
    `grad_signal` is the share of a step's squared gradient norm that the next step's gradient
    shares, mean(g_t . g_t-1) / mean|g_t|^2: about |G|^2 / (|G|^2 + tr(Sigma) / B), i.e.
    1 / (1 + B_noise / B) (McCandlish et al. 2018) for independent batches near one point;
    near 0 the steps are noise, below 0 they overshoot back and forth.
    """

    def __init__(self) -> None:
        self.epochs: list[dict[str, Any]] = []
        self._layers: list[str] = []
        self._group: torch.Tensor | None = None  # [P]: layer index of each parameter
        self._params: list[torch.nn.Parameter] = []
        self._lr = math.nan
        self._start_weights: torch.Tensor | None = None  # [W] float64 weights at epoch start
        self._reset()

    def _reset(self) -> None:
        self._norms: list[torch.Tensor] = []  # per step: [G + 1] layer norms and the total
        self._applied: list[torch.Tensor] = []  # per step: total norm after clipping
        self._losses: list[float] = []
        self._nonfinite_grads = 0
        self._nonfinite_losses = 0
        self._prev_grad: torch.Tensor | None = None  # [W] float64: the step before's gradient
        self._grad_sums: list[torch.Tensor] = []  # per step pair: [2] |g_t|^2, g_t . g_t-1
        self._start = time.perf_counter()

    def on_fit_start(self, trainer, pl_module) -> None:
        groups = pl_module.layer_groups()
        self._layers = list(groups)
        self._params = [p for ps in groups.values() for p in ps]
        self._group = torch.tensor([i for i, ps in enumerate(groups.values()) for _ in ps],
                                   device=self._params[0].device if self._params else None)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._reset()
        self._lr = float(trainer.optimizers[0].param_groups[0]["lr"])  # the rate this epoch uses
        self._start_weights = self._flat_weights()

    def _flat_weights(self) -> torch.Tensor:
        """All parameters as one float64 vector [W] (a copy)."""
        return torch.cat([p.detach().reshape(-1).double() for p in self._params])

    def _grad_norms(self) -> torch.Tensor | None:
        """Norm of every parameter's gradient in float64, [P], or None when the step made none."""
        grads = [p.grad for p in self._params]
        if any(g is None for g in grads):
            return None
        return torch.stack(torch._foreach_norm(grads, 2, dtype=torch.float64))  # [P]

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        per_param = self._grad_norms()
        if per_param is None:
            return
        sq = per_param.new_zeros(len(self._layers)).index_add_(
            0, self._group, per_param.square())  # [G] float64, on the gradients' device
        total = sq.sum().sqrt()
        if not torch.isfinite(total):
            self._nonfinite_grads += 1
            return
        self._norms.append(torch.cat([sq.sqrt(), total[None]]))  # [G + 1]
        self._signal_pair(sq.sum())

    def _signal_pair(self, squared: torch.Tensor) -> None:
        """Add this step's gradient (`squared`: its squared norm, summed above already) to the
        consecutive-step sums of `grad_signal`."""
        g = torch.cat([p.grad.detach().reshape(-1).double() for p in self._params])  # [W]
        if self._prev_grad is not None and self._prev_grad.numel() == g.numel():
            self._grad_sums.append(torch.stack([squared.to(g.device), g.dot(self._prev_grad)]))
        self._prev_grad = g

    def _grad_signal(self) -> float | None:
        """This epoch's mean(g_t . g_t-1) / mean|g_t|^2; None with under 4 step pairs."""
        if len(self._grad_sums) < 4:
            return None
        sq, dot = (float(v) for v in torch.stack(self._grad_sums).sum(0))
        if not sq > 0 or not math.isfinite(sq + dot):
            return None
        return dot / sq

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not outputs:  # None or {}: training_step skipped a non-finite loss
            self._nonfinite_losses += 1
            return
        self._losses.append(float(outputs["loss"]))
        per_param = self._grad_norms()  # gradients after clipping, as the optimiser used them
        if per_param is not None:
            self._applied.append(per_param.square().sum().sqrt())

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self.epochs and self.epochs[-1]["epoch"] == trainer.current_epoch:
            return  # a fit resumed at this epoch's end runs the hook again: recorded already
        m = {**trainer.callback_metrics, **train_means(pl_module)}
        row: dict[str, Any] = {
            "epoch": trainer.current_epoch,
            "step": trainer.global_step,  # optimizer steps so far (an epoch is a validation period)
            "train_loss": _f(m.get("train_loss")),
            "val_loss": _f(m.get("val_loss")),
            "lr": self._lr,
            "batches": len(self._losses) + self._nonfinite_losses,
            "nonfinite_losses": self._nonfinite_losses,
            "nonfinite_grads": self._nonfinite_grads,
            "train_loss_zero": _f(m.get("train_loss_zero")),
            "val_loss_zero": _f(m.get("val_loss_zero")),
            "batch_loss_var": _variance(self._losses),
            "batch_loss_max": max(self._losses) if self._losses else None,
            "grad_signal": self._grad_signal(),
            "seconds": round(time.perf_counter() - self._start, 3),
        }
        row.update(self._weight_record())
        norms = torch.stack(self._norms) if self._norms else None  # [S, G + 1]
        row["grad_norm_mean"] = _f(norms[:, -1].mean()) if norms is not None else None
        row["grad_norm_max"] = _f(norms[:, -1].max()) if norms is not None else None
        row["grad_norm_clipped_max"] = _f(torch.stack(self._applied).max()) if self._applied else None
        for i, layer in enumerate(self._layers):
            row[f"grad_norm_mean:{layer}"] = _f(norms[:, i].mean()) if norms is not None else None
            row[f"grad_norm_max:{layer}"] = _f(norms[:, i].max()) if norms is not None else None
        self.epochs.append(row)

    def _weight_record(self) -> dict[str, Any]:
        """Non-finite weights now, and the relative size of this epoch's weight change."""
        w = self._flat_weights()  # [W]
        bad = int((~torch.isfinite(w)).sum())
        change = None
        if not bad and self._start_weights is not None and self._start_weights.numel() == w.numel():
            ref = float(self._start_weights.norm())
            change = float((w - self._start_weights).norm()) / ref if ref > 0 else None
        self._start_weights = None
        return {"nonfinite_weights": bad, "weight_change": change}

    def state_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.epochs = list(state_dict["epochs"])


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

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "state": self.state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best, self.best_epoch = float(state_dict["best"]), int(state_dict["best_epoch"])
        self.state = state_dict["state"]


class EpochLogger(pl.Callback):
    """One log line per epoch, so Prefect's UI shows progress of a long fit."""

    def __init__(self, log: Callable[[str], None] | None = None, max_steps: int | None = None) -> None:
        self._emit = log or logging.getLogger("lstmflow").info
        self._max_steps = max_steps  # a step budget: name checks and steps, not epochs
        self._start, self._lr = time.perf_counter(), math.nan

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()
        self._lr = trainer.optimizers[0].param_groups[0]["lr"]

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        m = {**trainer.callback_metrics, **train_means(pl_module)}
        lr = self._lr
        where = (f"check {trainer.current_epoch + 1} (step {trainer.global_step}/{self._max_steps})"
                 if self._max_steps else f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}")
        self._emit(
            f"{where}: "
            f"train_loss={_fmt(m.get('train_loss'))} val_loss={_fmt(m.get('val_loss'))} "
            f"lr={lr:.2e} ({time.perf_counter() - self._start:.1f}s)"
        )


def train_means(pl_module) -> dict[str, float | None]:
    """The epoch's training losses the module summed (`LSTMForecaster.train_means`; None for
    an epoch without a finite step): callbacks run before the module's own epoch-end hook logs
    them, so `callback_metrics` would still hold the last epoch's."""
    means = getattr(pl_module, "train_means", None)
    return means() if means else {}


def _variance(xs: list[float]) -> float | None:
    """Population variance of the batch losses of an epoch (noisy-loss evidence)."""
    if not xs:
        return None
    mu = sum(xs) / len(xs)
    return sum((x - mu) ** 2 for x in xs) / len(xs)


def _fmt(v: Any) -> str:
    f = _f(v)
    return "nan" if f is None else f"{f:.4f}"


def _f(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None
