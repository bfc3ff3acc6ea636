"""The network and its training windows for a config (plain functions, no Prefect): what the
fit, the learning-rate finder and the tests build, each from the fit's own random stream."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from lstmflow.config import PipelineConfig
from lstmflow.data.arrays import SeriesArrays
from lstmflow.fit.budget import Budget, choose_stride, train_rows


def window_stride(cfg: PipelineConfig, arrays: Sequence[SeriesArrays]) -> int:
    """Steps between training windows: `choose_stride`, raised to the next value with no
    common factor with segment_len. Windows end stride apart and the loss sits on segment ends,
    so with a common factor every target would fall on the same rows mod the segment length
    (stride 8 with 8-step segments: one origin in 8 ever trained on)."""
    stride, p = choose_stride(cfg.training, train_rows(arrays)), segment_len(cfg)
    while math.gcd(stride, p) > 1:
        stride += 1
    return stride


def build_datasets(arrays: Sequence[SeriesArrays], cfg: PipelineConfig):
    """Train/val window datasets over one stacked tensor (shared: `train_ds.stack`)."""
    from models.data import StackedSeries, WindowBatches, window_ends
    from models.net import segment_ends

    L, t = cfg.forecast.input_size, cfg.training
    stack = StackedSeries(arrays, cfg.forecast.horizon)
    train_ends = window_ends(stack, arrays, "train", L, window_stride(cfg, arrays))
    val_ends = window_ends(stack, arrays, "val", L)
    cum = cumulative_target(cfg)
    # targets only where the loss reads them: every segment end in training, the origin in
    # validation (a [B, L, H] target block cost more than the step on long windows)
    train_at = segment_ends(L, segment_len(cfg)) if t.every_step else [L - 1]
    return (
        WindowBatches(stack, train_ends, L, "train", t.burn_in, t.every_step, cum, train_at),
        WindowBatches(stack, val_ends, L, "val", cumulative=cum, at=[L - 1]),
    )


def cumulative_target(cfg: PipelineConfig) -> bool:
    """Whether the head learns changes since the origin (an increment target only)."""
    return cfg.model.cumulative_target and cfg.preprocess.target_transform != "level"


def segment_len(cfg: PipelineConfig) -> int:
    """Steps per LSTM input segment (`PipelineConfig.segment_len`: the key, else automatic)."""
    return cfg.segment_len()


def fit_generator(cfg: PipelineConfig) -> torch.Generator:
    """The fit's own random stream for its initial weights, seeded by `training.seed`: two fits
    in threads of one process draw nothing from each other's stream."""
    return torch.Generator().manual_seed(cfg.training.seed)


def build_model(cfg: PipelineConfig, n_inputs: int, budget: Budget | None = None,
                learning_rate: float | None = None, generator: torch.Generator | None = None,
                n_known: int = 0):
    """The LightningModule with every guard of the model and training sections wired in;
    `budget` sets the plateau patience (in checks) and the cosine length (in steps). Its
    initial weights come from `generator` (default: a fresh `fit_generator(cfg)`). The last
    (horizon + 1) x `n_known` of its `n_inputs` are the inputs known ahead (lstmflow.data.known)."""
    from models.lstm import LSTMForecaster
    from models.net import init_weights

    m, t = cfg.model, cfg.training
    lr = learning_rate if learning_rate is not None else t.learning_rate
    if lr == "auto":
        lr = 1e-3  # placeholder until the learning-rate finder sets it
    model = LSTMForecaster(
        n_inputs=n_inputs,
        horizon=cfg.forecast.horizon,
        hidden_size=m.hidden_size,
        num_layers=m.num_layers,
        dropout=m.dropout,
        loss=m.loss,
        huber_delta=m.huber_delta,
        quantiles=list(m.quantiles),
        learning_rate=lr,
        optimizer=t.optimizer,
        weight_decay=t.weight_decay,
        l1_penalty=t.l1_penalty,
        scheduler=t.scheduler,
        lr_factor=t.lr_factor,
        plateau_patience=budget.plateau_patience if budget else (
            t.lr_patience if t.lr_patience is not None else t.patience // 2),
        min_lr=t.min_lr,
        max_steps=budget.total_steps if budget else None,
        cumulative=cumulative_target(cfg),
        segment_len=segment_len(cfg),
        highway=m.highway,
        input_dropout=m.input_dropout,
        n_known=n_known,
    )
    init_weights(model, generator if generator is not None else fit_generator(cfg))
    return model
