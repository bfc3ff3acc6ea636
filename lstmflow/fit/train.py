"""Fit the LSTM on prepared arrays with the guards from the config (plain function, no Prefect)."""

from __future__ import annotations

import csv
import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lstmflow.config import PipelineConfig
from lstmflow.data.arrays import SeriesArrays
from lstmflow.runs import CHECKPOINT, HISTORY, TrainingError, checkpoint_path, write_json
from lstmflow.runtime import apply_torch_threads

# Fits in threads of one process (backtest folds on the thread runner) share torch's global
# generator: seeding and drawing the initial weights happen under this lock, so a fold's
# weights do not depend on what the other threads draw.
_INIT_LOCK = threading.Lock()


class FitDiverged(TrainingError):
    """The fit produced no usable model; `history` keeps what was recorded until then, so the
    diagnosis can still say why."""

    def __init__(self, message: str, history: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)  # args stay (message,): the error pickles like any other
        self.history = history or []


@dataclass
class TrainResult:
    model: Any  # models.lstm.LSTMForecaster with the best validation weights loaded
    history: list[dict[str, Any]]
    best_val_loss: float | None
    best_epoch: int
    epochs_run: int
    seconds: float
    windows: dict[str, int] = field(default_factory=dict)
    resumed_from_epoch: int | None = None  # epochs already done in the checkpoint resumed from
    checkpoint: str | None = None  # path of last.ckpt when the fit was checkpointed


def save_history(history: list[dict[str, Any]], run_dir: Path) -> tuple[Path, Path]:
    """Per-epoch records as history.json and history.csv (one column per recorded key)."""
    run_dir = Path(run_dir)
    jpath, cpath = run_dir / HISTORY, run_dir / "history.csv"
    write_json(jpath, history)
    keys = list(dict.fromkeys(k for row in history for k in row))
    with cpath.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)
    return jpath, cpath


def build_datasets(arrays: Sequence[SeriesArrays], cfg: PipelineConfig):
    """Train/val window datasets over one stacked tensor (shared: `train_ds.stack`)."""
    from models.data import StackedSeries, WindowBatches, window_ends

    L, t = cfg.forecast.input_size, cfg.training
    stack = StackedSeries(arrays, cfg.forecast.horizon)
    train_ends = window_ends(stack, arrays, "train", L, t.window_stride)
    val_ends = window_ends(stack, arrays, "val", L)
    return (
        WindowBatches(stack, train_ends, L, "train", t.burn_in, t.every_step),
        WindowBatches(stack, val_ends, L, "val"),
    )


def build_model(cfg: PipelineConfig, n_inputs: int):
    """The LightningModule with every guard of the model and training sections wired in."""
    from models.lstm import LSTMForecaster

    m, t = cfg.model, cfg.training
    return LSTMForecaster(
        n_inputs=n_inputs,
        horizon=cfg.forecast.horizon,
        hidden_size=m.hidden_size,
        num_layers=m.num_layers,
        dropout=m.dropout,
        loss=m.loss,
        huber_delta=m.huber_delta,
        quantiles=list(m.quantiles),
        learning_rate=t.learning_rate,
        optimizer=t.optimizer,
        weight_decay=t.weight_decay,
        l1_penalty=t.l1_penalty,
        scheduler=t.scheduler,
        lr_factor=t.lr_factor,
        plateau_patience=t.lr_patience if t.lr_patience is not None else t.patience // 2,
        min_lr=t.min_lr,
        max_epochs=t.max_epochs,
    )


def build_trainer(
    cfg: PipelineConfig,
    callbacks: Sequence[Any],
    progress: bool = False,
    checkpoint_dir: Path | None = None,
    **overrides: Any,
):
    """A CPU Trainer with clipping, the time budget, determinism and per-epoch checkpoints."""
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import ModelCheckpoint

    t = cfg.training
    callbacks = list(callbacks)
    if checkpoint_dir is not None:
        # monitor=None + save_top_k=1: the newest epoch overwrites `last.ckpt`, one file
        callbacks.append(ModelCheckpoint(
            dirpath=checkpoint_dir, filename=CHECKPOINT.removesuffix(".ckpt"), monitor=None,
            save_top_k=1, every_n_epochs=1, enable_version_counter=False,
        ))
    kwargs: dict[str, Any] = dict(
        max_epochs=t.max_epochs,
        max_time=timedelta(minutes=t.max_time_minutes),
        gradient_clip_val=t.gradient_clip or None,
        gradient_clip_algorithm="norm",
        callbacks=callbacks,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=checkpoint_dir is not None,
        enable_progress_bar=progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        deterministic=t.deterministic,
    )
    kwargs.update(overrides)
    return pl.Trainer(**kwargs)


def training_callbacks(cfg: PipelineConfig, log: Callable[[str], None] | None = None) -> list:
    """Recorder, best-weight restore, per-epoch log line and early stopping, as in every fit."""
    from pytorch_lightning.callbacks import EarlyStopping

    from models.callbacks import BestWeights, EpochLogger, HistoryRecorder

    t = cfg.training
    return [
        HistoryRecorder(),
        BestWeights(),
        EpochLogger(log),
        EarlyStopping(monitor="val_loss", patience=t.patience, min_delta=t.min_delta, mode="min"),
    ]


def _resumable_epochs(ckpt: Path | None) -> int:
    """Epochs completed in the checkpoint to resume (read with weights_only=True: no pickled
    code runs), or a TrainingError when there is none."""
    if ckpt is None or not ckpt.is_file():
        raise TrainingError(
            f"cannot resume: no checkpoint at '{ckpt}'. The run was killed before its "
            "first epoch ended, or it was not checkpointed; start a new run instead."
        )
    return int(torch.load(ckpt, map_location="cpu", weights_only=True)["epoch"]) + 1


def train_model(
    arrays: Sequence[SeriesArrays],
    cfg: PipelineConfig,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    run_dir: Path | None = None,
    resume: bool = False,
    extra_callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train with early stopping on validation loss; the best epoch's weights are kept.

    With `run_dir`, a checkpoint is written every epoch to `<run_dir>/checkpoints/last.ckpt`;
    `resume=True` continues from it (loaded with weights_only=True).
    """
    import pytorch_lightning as pl

    from models.callbacks import BestWeights, HistoryRecorder
    from models.data import loader

    apply_torch_threads(cfg.runtime)  # every fit, so side-by-side runs share cores
    t = cfg.training
    ckpt_dir = Path(run_dir) / "checkpoints" if run_dir is not None else None
    ckpt = checkpoint_path(run_dir) if run_dir is not None else None
    resumed_from = _resumable_epochs(ckpt) if resume else None
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    train_ds, val_ds = build_datasets(arrays, cfg)
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
    with _INIT_LOCK:
        pl.seed_everything(t.seed, workers=True, verbose=False)
        model = build_model(cfg, arrays[0].x.shape[1])
    callbacks = [*training_callbacks(cfg, log), *extra_callbacks]
    recorder = next(c for c in callbacks if isinstance(c, HistoryRecorder))
    best = next(c for c in callbacks if isinstance(c, BestWeights))
    trainer = build_trainer(cfg, callbacks, progress, ckpt_dir)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", ".*LeafSpec.*")  # torch pytree deprecation in Lightning
        warnings.filterwarnings("ignore", ".*Total length of `DataLoader` across ranks.*")
        warnings.filterwarnings("ignore", ".*Checkpoint directory .* exists and is not empty.*")
        warnings.filterwarnings("ignore", ".*`training_step` returned `None`.*")  # counted
        # Saturated gates of a diverging fit leave gradients in the subnormal range, where CPU
        # arithmetic runs ~100x slower (measured: 2.5 s a step instead of 20 ms): values below
        # 1e-38 count as 0 during the fit. The flag is the CPU thread's; it is put back after.
        torch.set_flush_denormal(True)
        try:
            trainer.fit(
                model,
                loader(train_ds, t.batch_size, shuffle=True, seed=t.seed,
                       cap=t.max_windows_per_epoch),
                loader(val_ds, t.batch_size * 4, shuffle=False),
                ckpt_path=str(ckpt) if resume else None,
                weights_only=True if resume else None,
            )
        except RuntimeError as exc:
            if resume and "state_dict" in str(exc):
                raise TrainingError(
                    f"cannot resume: checkpoint '{ckpt}' does not fit the model of this "
                    f"config ({str(exc).splitlines()[0]}); resume with the run's own config"
                ) from exc
            raise
        finally:
            torch.set_flush_denormal(False)
    seconds = time.perf_counter() - start
    if best.state is None:
        raise FitDiverged(
            "training produced no finite validation loss: the fit diverged. Lower "
            "training.learning_rate, keep training.gradient_clip on, check the scaling.",
            recorder.epochs,
        )
    return TrainResult(
        model=model,
        history=recorder.epochs,
        best_val_loss=best.best,
        best_epoch=best.best_epoch,
        epochs_run=trainer.current_epoch,
        seconds=seconds,
        windows={"train": len(train_ds), "val": len(val_ds),
                 "train_per_epoch": min(len(train_ds), t.max_windows_per_epoch or len(train_ds))},
        resumed_from_epoch=resumed_from,
        checkpoint=str(ckpt) if ckpt is not None else None,
    )


def _predict(model, arrays: Sequence[SeriesArrays], cfg: PipelineConfig, split: str, fn):
    """Apply `fn` (a predict method) to every usable origin of a split, 1024 windows at a time."""
    from models.data import StackedSeries, WindowBatches, window_ends

    L = cfg.forecast.input_size
    stack = StackedSeries(arrays, cfg.forecast.horizon)
    ends = window_ends(stack, arrays, split, L)
    ds = WindowBatches(stack, ends, L, split)
    out = [fn(ds[list(range(i, min(i + 1024, len(ds))))][0]) for i in range(0, len(ds), 1024)]
    return stack, ends, out


def predict_quantiles(model, arrays: Sequence[SeriesArrays], cfg: PipelineConfig, split: str):
    """Scaled forecasts of every level, (stack, ends, qhat [N, H, Q]); Q = 1 for point losses."""
    stack, ends, out = _predict(model, arrays, cfg, split, model.predict_quantiles)
    empty = np.zeros((0, cfg.forecast.horizon, model.n_q), np.float32)
    return stack, ends, torch.cat(out).numpy() if out else empty


def predict_origins(model, arrays: Sequence[SeriesArrays], cfg: PipelineConfig, split: str):
    """Scaled point forecasts [N, H] (the median under quantile loss) for every usable origin.

    Returns (stack, ends, zhat): `ends` are global row indices into `stack`.
    """
    stack, ends, out = _predict(model, arrays, cfg, split, model.predict_last)
    empty = np.zeros((0, cfg.forecast.horizon), np.float32)
    return stack, ends, torch.cat(out).numpy() if out else empty
