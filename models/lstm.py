"""LSTM forecaster as a LightningModule: a direct multi-horizon head on every timestep.

Training puts a loss on every step of a window after the burn-in (one forward pass, many
targets); prediction reads the last step, the real forecast origin.
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch import nn

LOSSES = {
    "mse": lambda: nn.MSELoss(reduction="none"),
    "mae": lambda: nn.L1Loss(reduction="none"),
    "huber": lambda: nn.HuberLoss(reduction="none", delta=1.0),
}


class LSTMForecaster(pl.LightningModule):
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
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.lstm = nn.LSTM(
            n_inputs,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, horizon)
        self.loss_fn = LOSSES[loss]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)  # [B, L, hidden]
        return self.head(self.drop(out))  # [B, L, H]

    def masked_loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x, y, ok = batch  # [B, L, F], [B, L, H], [B, L, H]
        pred = self(x)  # [B, L, H]
        err = self.loss_fn(pred, y)  # [B, L, H]
        return (err * ok).sum() / ok.sum().clamp(min=1)

    def training_step(self, batch, batch_idx):
        loss = self.masked_loss(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self.masked_loss(batch)
        self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True)

    def configure_optimizers(self):
        hp = self.hparams
        opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                   "rmsprop": torch.optim.RMSprop}[hp.optimizer]
        opt = opt_cls(self.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=0.5, patience=hp.plateau_patience
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_loss"}}

    @torch.no_grad()
    def predict_last(self, x: torch.Tensor) -> torch.Tensor:
        """Forecast from the last step of each window: [B, L, F] -> [B, H]."""
        self.eval()
        return self(x)[:, -1, :]
