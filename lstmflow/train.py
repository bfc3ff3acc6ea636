"""Fit the LSTM on prepared arrays with the guards from the config (plain function, no Prefect)."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import torch

from lstmflow.config import PipelineConfig
from lstmflow.preprocess import SeriesArrays


class TrainingError(RuntimeError):
    """Training could not produce a usable model; the message says why and what to change."""


@dataclass
class TrainResult:
    model: Any  # models.lstm.LSTMForecaster with the best validation weights loaded
    history: list[dict[str, Any]]
    best_val_loss: float | None
    best_epoch: int
    epochs_run: int
    seconds: float
    windows: dict[str, int] = field(default_factory=dict)


def build_datasets(arrays: Sequence[SeriesArrays], cfg: PipelineConfig):
    """Train/val window datasets over one stacked tensor."""
    from models.data import StackedSeries, WindowBatches, window_ends

    L, t = cfg.forecast.input_size, cfg.training
    stack = StackedSeries(arrays, cfg.forecast.horizon)
    train_ends = window_ends(stack, arrays, "train", L, t.window_stride)
    val_ends = window_ends(stack, arrays, "val", L)
    return (
        stack,
        WindowBatches(stack, train_ends, L, "train", t.burn_in),
        WindowBatches(stack, val_ends, L, "val"),
    )


def train_model(
    arrays: Sequence[SeriesArrays],
    cfg: PipelineConfig,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train with early stopping on validation loss; the best epoch's weights are kept."""
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import EarlyStopping

    from models.callbacks import BestWeights, EpochLogger, HistoryRecorder
    from models.data import loader
    from models.lstm import LSTMForecaster

    t, m = cfg.training, cfg.model
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    pl.seed_everything(t.seed, workers=True, verbose=False)
    _, train_ds, val_ds = build_datasets(arrays, cfg)
    if len(train_ds) == 0:
        raise TrainingError(
            "no training window fits: every series' training part is shorter than "
            f"input_size ({cfg.forecast.input_size}) + horizon, or is broken by long gaps. "
            "Lower forecast.input_size or raise preprocess.max_gap."
        )
    if len(val_ds) == 0:
        raise TrainingError(
            "no validation window fits: raise evaluation.val_size above forecast.horizon."
        )
    model = LSTMForecaster(
        n_inputs=arrays[0].x.shape[1],
        horizon=cfg.forecast.horizon,
        hidden_size=m.hidden_size,
        num_layers=m.num_layers,
        dropout=m.dropout,
        loss=m.loss,
        learning_rate=t.learning_rate,
        optimizer=t.optimizer,
        weight_decay=t.weight_decay,
        plateau_patience=max(1, t.patience // 2),
    )
    recorder, best = HistoryRecorder(), BestWeights()
    callbacks = [recorder, best, EpochLogger(log),
                 EarlyStopping(monitor="val_loss", patience=t.patience, mode="min")]
    trainer = pl.Trainer(
        max_epochs=t.max_epochs,
        max_time=timedelta(minutes=t.max_time_minutes),
        gradient_clip_val=t.gradient_clip or None,
        callbacks=callbacks,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        deterministic=False,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", ".*Total length of `DataLoader` across ranks.*")
        trainer.fit(
            model,
            loader(train_ds, t.batch_size, shuffle=True, seed=t.seed),
            loader(val_ds, t.batch_size * 4, shuffle=False),
        )
    seconds = time.perf_counter() - start
    if best.state is None:
        raise TrainingError(
            "training produced no finite validation loss: the fit diverged. Lower "
            "training.learning_rate, keep training.gradient_clip on, check the scaling."
        )
    return TrainResult(
        model=model,
        history=recorder.epochs,
        best_val_loss=best.best,
        best_epoch=best.best_epoch,
        epochs_run=trainer.current_epoch,
        seconds=seconds,
        windows={"train": len(train_ds), "val": len(val_ds)},
    )


def predict_origins(model, arrays: Sequence[SeriesArrays], cfg: PipelineConfig, split: str):
    """Scaled forecasts [N, H] for every usable origin of a split, with the origins' rows.

    Returns (stack, ends, zhat): `ends` are global row indices into `stack`.
    """
    from models.data import StackedSeries, WindowBatches, window_ends

    L = cfg.forecast.input_size
    stack = StackedSeries(arrays, cfg.forecast.horizon)
    ends = window_ends(stack, arrays, split, L)
    ds = WindowBatches(stack, ends, L, split)
    preds = []
    for i in range(0, len(ds), 1024):
        x, _, _ = ds[list(range(i, min(i + 1024, len(ds))))]
        preds.append(model.predict_last(x))
    zhat = torch.cat(preds).numpy() if preds else np.zeros((0, cfg.forecast.horizon), np.float32)
    return stack, ends, zhat
