"""Fit the LSTM on prepared arrays with the guards from the config (plain function, no Prefect)."""

from __future__ import annotations

import csv
import io
import logging
import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lstmflow.config import PipelineConfig
from lstmflow.data.arrays import SeriesArrays
from lstmflow.durable import write_text
from lstmflow.fit.budget import Budget, choose_stride, describe_budget, resolve_budget, train_rows
from lstmflow.fit.trainer import build_trainer, training_callbacks
from lstmflow.runs import HISTORY, TrainingError, checkpoint_path, write_json
from lstmflow.runtime import apply_torch_threads

# Fits in threads of one process (backtest folds on the thread runner) share torch's global
# generator: seeding and drawing the initial weights happen under this lock, so a fold's
# weights do not depend on what the other threads draw.
_INIT_LOCK = threading.Lock()


class FitDiverged(TrainingError):
    """The fit produced no usable model; `history` keeps what was recorded until then, so the
    diagnosis can still say why."""

    def __init__(self, message: str, history: list[dict[str, Any]] | None = None,
                 seconds: float = 0.0) -> None:
        super().__init__(message)  # args stay (message,): the error pickles like any other
        self.history = history or []
        self.seconds = seconds  # how long the fit ran


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
    continued_from_epoch: int | None = None  # a repair that continued its parent's fit there
    checkpoint: str | None = None  # path of last.ckpt when the fit was checkpointed
    stack: Any = None  # models.data.StackedSeries the fit read: predictions reuse it
    budget: dict[str, Any] = field(default_factory=dict)  # the resolved Budget (as_dict)
    steps_run: int = 0  # optimizer steps taken
    learning_rate: float | None = None  # the rate the fit started from (found when 'auto')


def save_history(history: list[dict[str, Any]], run_dir: Path, kind: str = ""
                 ) -> tuple[Path, Path]:
    """Per-epoch records as history.json and history.csv (one column per recorded key);
    `kind` prefixes the names of their crash points (a repair attempt's: 'attempt-')."""
    run_dir = Path(run_dir)
    jpath, cpath = run_dir / HISTORY, run_dir / "history.csv"
    write_json(jpath, history, f"{kind}{HISTORY}")
    keys = list(dict.fromkeys(k for row in history for k in row))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=keys)
    writer.writeheader()
    writer.writerows(history)
    write_text(cpath, text.getvalue(), f"{kind}history.csv")
    return jpath, cpath


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


def build_model(cfg: PipelineConfig, n_inputs: int, budget: Budget | None = None,
                learning_rate: float | None = None):
    """The LightningModule with every guard of the model and training sections wired in;
    `budget` sets the plateau patience (in checks) and the cosine length (in steps)."""
    from models.lstm import LSTMForecaster

    m, t = cfg.model, cfg.training
    lr = learning_rate if learning_rate is not None else t.learning_rate
    if lr == "auto":
        lr = 1e-3  # placeholder until the learning-rate finder sets it
    return LSTMForecaster(
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
    )


def train_model(
    arrays: Sequence[SeriesArrays],
    cfg: PipelineConfig,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    run_dir: Path | None = None,
    resume: bool = False,
    extra_callbacks: Sequence[Any] = (),
    checkpoint_kind: str | None = None,
) -> TrainResult:
    """Train within the step and time budget (lstmflow.fit.budget) with early stopping on
    validation loss; the best check's weights are kept.

    With `run_dir`, a checkpoint is written at every validation check to
    `<run_dir>/checkpoints/last.ckpt` (`checkpoint_kind` names its crash points); `resume=True`
    continues from it (weights_only=True).
    Everything random follows `training.seed`, so a second call with overrides (a repair)
    refits on the same windows and the same split.
    """
    import pytorch_lightning as pl

    from lstmflow.fit.checkpoint import checkpoint_epochs, checkpoint_segment_len
    from models.callbacks import BestWeights, HistoryRecorder
    from models.data import loader

    apply_torch_threads(cfg.runtime)  # every fit, so side-by-side runs share cores
    t = cfg.training
    ckpt_dir = Path(run_dir) / "checkpoints" if run_dir is not None else None
    ckpt = checkpoint_path(run_dir) if run_dir is not None else None
    resumed_from = checkpoint_epochs(ckpt) if resume else None
    if resume and cfg.model.segment_len is None:  # auto: the network the checkpoint holds
        cfg = cfg.model_copy(update={"model": cfg.model.model_copy(
            update={"segment_len": checkpoint_segment_len(ckpt)})})
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
    budget = resolve_budget(t, len(train_ds), len(val_ds), window_stride(cfg, arrays))
    emit = log or logging.getLogger("lstmflow").info
    for note in budget.notes:
        emit(f"warning: {note}")
    p = segment_len(cfg)
    emit(f"{describe_budget(budget)}; the LSTM reads {p}-step segments "
         f"({cfg.forecast.input_size // p} recurrent steps a window)")
    train_dl = loader(train_ds, budget.batch_size, shuffle=True, seed=t.seed,
                      cap=t.max_windows_per_epoch if budget.mode == "epochs" else None,
                      steps=budget.steps_per_check if budget.mode == "steps" else None)
    val_dl = loader(val_ds, budget.batch_size * 4, shuffle=False)
    lr = None
    if t.learning_rate == "auto":
        from lstmflow.fit.lr_find import auto_learning_rate

        with _INIT_LOCK:  # the finder draws from the process-wide RNG, as init does
            pl.seed_everything(t.seed, workers=True, verbose=False)
            lr = auto_learning_rate(cfg, budget, arrays[0].x.shape[1], train_dl, val_dl,
                                    run_dir, resume, emit)
    with _INIT_LOCK:
        pl.seed_everything(t.seed, workers=True, verbose=False)
        model = build_model(cfg, arrays[0].x.shape[1], budget, lr)
    callbacks = [*training_callbacks(cfg, log, budget), *extra_callbacks]
    recorder = next(c for c in callbacks if isinstance(c, HistoryRecorder))
    best = next(c for c in callbacks if isinstance(c, BestWeights))
    trainer = build_trainer(cfg, callbacks, progress, ckpt_dir, budget, checkpoint_kind)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", ".*LeafSpec.*")  # torch pytree deprecation in Lightning
        warnings.filterwarnings("ignore", ".*Total length of `DataLoader` across ranks.*")
        warnings.filterwarnings("ignore", ".*Checkpoint directory .* exists and is not empty.*")
        warnings.filterwarnings("ignore", ".*The dirpath has changed from.*")  # a continued fit
        warnings.filterwarnings("ignore", ".*`training_step` returned `None`.*")  # counted
        # Saturated gates of a diverging fit leave gradients in the subnormal range, where CPU
        # arithmetic runs ~100x slower (measured: 2.5 s a step instead of 20 ms): values below
        # 1e-38 count as 0 during the fit. The flag is the CPU thread's; it is put back after.
        torch.set_flush_denormal(True)
        try:
            trainer.fit(
                model, train_dl, val_dl,
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
            recorder.epochs, seconds,
        )
    return TrainResult(
        model=model,
        history=recorder.epochs,
        best_val_loss=best.best,
        best_epoch=best.best_epoch,
        epochs_run=trainer.current_epoch,
        seconds=seconds,
        windows={"train": len(train_ds), "val": len(val_ds),
                 "train_per_epoch": budget.windows_per_check},
        resumed_from_epoch=resumed_from,
        checkpoint=str(ckpt) if ckpt is not None else None,
        stack=train_ds.stack,
        budget=budget.as_dict(),
        steps_run=trainer.global_step,
        learning_rate=float(model.hparams.learning_rate),
    )
