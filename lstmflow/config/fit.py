"""Config sections `model` (LSTM capacity, loss) and `training` (optimiser and guards)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lstmflow.config.base import _Section


class ModelConfig(_Section):
    """LSTM capacity, regularisation and loss: each guard is a visible field."""

    hidden_size: int = Field(
        64, ge=1, le=4096,
        description="LSTM hidden units per layer: too few underfit, too many overfit small data.",
    )
    num_layers: int = Field(
        2, ge=1, le=8,
        description="Stacked LSTM layers; more than 2-3 make gradients vanish or explode.",
    )
    dropout: float = Field(
        0.1, ge=0, lt=1, description="Dropout between LSTM layers and before the head."
    )
    loss: Literal["mse", "mae", "huber", "quantile"] = Field(
        "huber",
        description="Training loss; 'quantile' fits the `quantiles` (pinball loss) for "
        "prediction intervals, and the 0.5 quantile is the point forecast.",
    )
    huber_delta: float = Field(
        1.0, gt=0, description="Huber loss: errors beyond this (scaled units) count linearly."
    )
    quantiles: list[float] = Field(
        [0.1, 0.5, 0.9],
        min_length=1,
        max_length=99,
        description="Quantile loss only: levels in (0, 1), increasing, 0.5 included.",
    )

    @model_validator(mode="after")
    def _check_quantiles(self) -> ModelConfig:
        q = self.quantiles
        if any(not 0 < v < 1 for v in q) or sorted(set(q)) != q or 0.5 not in q:
            raise ValueError("model.quantiles must be increasing levels in (0, 1) that include 0.5")
        return self


class TrainingConfig(_Section):
    """Optimisation and the guards against over- and under-fitting."""

    max_epochs: int = Field(50, ge=1, le=10000, description="Upper bound on epochs.")
    batch_size: int = Field(
        128, ge=1, le=65536,
        description="Windows per batch: smaller is noisier, larger is faster per window.",
    )
    learning_rate: float = Field(1e-3, gt=0, le=1, description="Initial learning rate.")
    optimizer: Literal["adam", "adamw", "rmsprop"] = Field(
        "adamw", description="Optimiser; AdamW applies weight decay decoupled from the gradient."
    )
    weight_decay: float = Field(1e-4, ge=0, le=1, description="L2 weight decay.")
    l1_penalty: float = Field(
        0.0, ge=0, le=1, description="L1 penalty on the weights (sum |w| x this); 0 is off."
    )
    gradient_clip: float = Field(1.0, ge=0, description="Max gradient norm; 0 turns clipping off.")
    scheduler: Literal["plateau", "cosine", "none"] = Field(
        "plateau",
        description="Learning-rate schedule: 'plateau' lowers it when val loss stalls, "
        "'cosine' anneals it over max_epochs.",
    )
    lr_factor: float = Field(
        0.5, gt=0, lt=1, description="Plateau: multiply the learning rate by this on a stall."
    )
    lr_patience: int | None = Field(
        None, ge=0, le=1000,
        description="Plateau: stalled epochs before lowering the rate; default patience // 2.",
    )
    min_lr: float = Field(1e-6, ge=0, description="Floor of the learning rate for both schedules.")
    patience: int = Field(
        5, ge=1, le=1000,
        description="Early stopping: epochs without val-loss improvement before stopping; "
        "the best epoch's weights are restored.",
    )
    min_delta: float = Field(
        0.0, ge=0, description="Early stopping: smallest val-loss drop that counts as better."
    )
    burn_in: int = Field(
        8, ge=0, description="Steps at the start of a window that get no loss (state warm-up)."
    )
    every_step: bool = Field(
        True,
        description="Loss on every step of a window after burn-in (many targets per pass); "
        "False puts it on the last step only.",
    )
    window_stride: int = Field(
        16, ge=1, description="Steps between consecutive training windows of a series."
    )
    max_windows_per_epoch: int | None = Field(
        None, ge=1,
        description="Cap on training windows drawn per epoch (a fresh random sample each "
        "epoch), for large panels; all windows when absent.",
    )
    max_time_minutes: float = Field(
        30, gt=0, description="Wall-time budget for training; stops cleanly when spent."
    )
    seed: int = Field(42, ge=0, description="Seed for torch, numpy and python.")
    deterministic: bool = Field(
        False,
        description="torch deterministic algorithms: bit-for-bit repeatable fits, a little slower.",
    )
