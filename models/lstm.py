"""LSTM forecaster as a LightningModule: a direct multi-horizon head on every timestep.

Training puts a loss on every step of a window after the burn-in (every segment end when the
network reads `segment_len` steps at once, models/net.py; one forward pass, many targets);
prediction reads the last step, the real forecast origin. With `cumulative` the head
is trained on changes since the origin (see models.data.WindowBatches) and prediction returns
them as per-step increments, so every consumer sees the same layout. With the quantile loss the
head emits Q levels per horizon step and the 0.5 level is the point forecast.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytorch_lightning as pl
import torch
from torch import nn

from models.net import DEFAULT_QUANTILES, Forecasts, add_layers, forecast_all, quantile_levels, segment_ends

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}
__all__ = ["DEFAULT_QUANTILES", "OPTIMIZERS", "LSTMForecaster", "pinball"]


def pinball(pred: torch.Tensor, y: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Quantile (pinball) loss averaged over levels: [B, L, H, Q], [B, L, H], [Q] -> [B, L, H]."""
    diff = y.unsqueeze(-1) - pred  # [B, L, H, Q]
    return torch.maximum(q * diff, (q - 1) * diff).mean(-1)


class LSTMForecaster(Forecasts, pl.LightningModule):
    """Stacked LSTM with dropout, a direct H-step head and the config's optimiser guards."""

    def __init__(
        self,
        n_inputs: int,
        horizon: int,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        loss: str = "huber",
        learning_rate: float = 1e-3,
        optimizer: str = "adamw",
        weight_decay: float = 1e-4,
        plateau_patience: int = 2,
        huber_delta: float = 1.0,
        quantiles: Sequence[float] | None = None,
        l1_penalty: float = 0.0,
        scheduler: str = "plateau",
        lr_factor: float = 0.5,
        min_lr: float = 1e-6,
        max_epochs: int = 50,
        max_steps: int | None = None,
        cumulative: bool = False,
        segment_len: int = 1,
        highway: int = 0,
        input_dropout: float = 0.0,
        n_known: int = 0,
    ) -> None:
        super().__init__()
        quantiles = quantile_levels(loss, quantiles)
        self.save_hyperparameters()
        self.cumulative = cumulative  # predict_quantiles (models/net.py) differences it back
        # lstm, drop, head (models/net.py: the inference-only LSTMNet loads the same state dict)
        add_layers(self, n_inputs, horizon, hidden_size, num_layers, dropout, quantiles,
                   segment_len, highway, n_known)
        self.input_dropout = input_dropout  # models/net.drop_inputs, in training only
        self.point_loss = {
            "mse": nn.MSELoss(reduction="none"),
            "mae": nn.L1Loss(reduction="none"),
            "huber": nn.HuberLoss(reduction="none", delta=huber_delta),
            "quantile": None,
        }[loss]
        self._l1_weights = [p for n, p in self.named_parameters() if "weight" in n]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, L, F] -> [B, L', H, Q]: an H-step forecast (Q levels) from every segment end."""
        return forecast_all(self, x, self.hparams.horizon)

    def elementwise_loss(self, pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Loss per target: [B, L', H, Q], [B, L', H] -> [B, L', H]."""
        if self.point_loss is None:
            return pinball(pred, y, self.q_levels)
        return self.point_loss(pred[..., 0], y)

    def masked_loss(self, batch: tuple[torch.Tensor, ...], pred: torch.Tensor | None = None
                    ) -> torch.Tensor:
        """Mean loss over the targets the mask keeps (observed, inside the split, past burn-in)
        of `pred` [B, L', H, Q] (one row per segment end), the model's forecast when not given."""
        x, y, ok = batch  # [B, L, F], [B, T, H], [B, T, H]: T targets per window
        pred = self(x) if pred is None else pred  # [B, L', H, Q]
        if y.shape[1] == x.shape[1] and pred.shape[1] != y.shape[1]:  # every step's targets
            at = segment_ends(x.shape[1], self.segment_len).to(y.device)  # [L']
            y, ok = y[:, at], ok[:, at]  # [B, L', H]
        elif y.shape[1] < pred.shape[1]:  # the last T segment ends' targets (the origin's)
            pred = pred[:, -y.shape[1]:]
        err = self.elementwise_loss(pred, y)  # [B, T, H]
        return (err * ok).sum() / ok.sum().clamp(min=1)

    def zero_loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The same loss for a constant forecast of 0 (the training centre of the scaled
        target): the yardstick the diagnosis uses to tell learning from none."""
        x, y, _ = batch
        steps = len(segment_ends(x.shape[1], self.segment_len))  # L'
        pred = torch.zeros(y.shape[0], steps, y.shape[2], self.n_q, dtype=y.dtype,
                           device=y.device)  # [B, L', H, Q] (masked_loss takes the targets' T)
        return self.masked_loss(batch, pred)

    def l1_term(self) -> torch.Tensor:
        """L1 penalty on the weight matrices (biases excluded), scaled by `l1_penalty`."""
        return self.hparams.l1_penalty * sum(p.abs().sum() for p in self._l1_weights)

    def on_train_epoch_start(self) -> None:
        self._train_sums = None  # [3] on the loss's device: loss x B, zero x B, B

    def training_step(self, batch, batch_idx):
        loss = self.masked_loss(batch)
        total = loss + self.l1_term() if self.hparams.l1_penalty > 0 else loss
        if not torch.isfinite(total):
            return None  # skips backward and the optimiser step; the recorder counts it
        # summed here, logged once an epoch: Lightning's self.log costs ~0.4 ms a call, a
        # tenth of a small batch's step
        done = loss.detach()
        sums = torch.stack([done, self.zero_loss(batch).detach(), torch.ones_like(done)])
        sums = sums * batch[0].shape[0]  # [3], weighted by batch size as self.log weighs them
        prev = getattr(self, "_train_sums", None)
        self._train_sums = sums if prev is None else prev + sums
        return {"loss": total}

    def train_means(self) -> dict[str, float | None]:
        """This epoch's batch-size-weighted mean training loss and that of a constant forecast
        (what `self.log(..., on_epoch=True)` would give); None before any finite step."""
        sums = getattr(self, "_train_sums", None)
        if sums is None:
            return {"train_loss": None, "train_loss_zero": None}
        return {"train_loss": float(sums[0] / sums[2]), "train_loss_zero": float(sums[1] / sums[2])}

    def on_train_epoch_end(self) -> None:
        """The epoch's means into `callback_metrics` as well, for loggers and monitors (the
        recorder and the epoch log run before this hook and read `train_means()`)."""
        for name, value in self.train_means().items():
            if value is not None:
                self.log(name, value, on_step=False, on_epoch=True, prog_bar=name == "train_loss")

    def validation_step(self, batch, batch_idx):
        loss = self.masked_loss(batch)
        self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        self.log("val_loss_zero", self.zero_loss(batch), on_step=False, on_epoch=True)

    def configure_optimizers(self):
        hp = self.hparams
        opt = OPTIMIZERS[hp.optimizer](
            self.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay
        )
        if hp.scheduler == "none":
            return opt
        if hp.scheduler == "cosine":  # over the step budget; over epochs in old hparams
            steps = hp.get("max_steps")
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, T_max=max(1, steps or hp.max_epochs), eta_min=hp.min_lr
            )
            interval = "step" if steps else "epoch"
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": interval}}
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=hp.lr_factor, patience=hp.plateau_patience, min_lr=hp.min_lr
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss"}}

    def layer_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters by layer (`lstm.l0`, `lstm.l1`, ..., `head`) for per-layer gradient norms."""
        groups: dict[str, list[nn.Parameter]] = {}
        for name, p in self.named_parameters():
            module, _, leaf = name.partition(".")
            key = f"{module}.{leaf.rsplit('_', 1)[-1]}" if module == "lstm" else module
            groups.setdefault(key, []).append(p)
        return groups
