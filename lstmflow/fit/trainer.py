"""The Lightning Trainer and the callbacks every fit uses: budget, clipping, checkpoints,
history, best weights, early stopping (plain functions, no Prefect)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from lstmflow.config import PipelineConfig
from lstmflow.fit.budget import Budget
from lstmflow.runs import CHECKPOINT


def build_trainer(
    cfg: PipelineConfig,
    callbacks: Sequence[Any],
    progress: bool = False,
    checkpoint_dir: Path | None = None,
    budget: Budget | None = None,
    checkpoint_kind: str | None = None,
    **overrides: Any,
):
    """A Trainer on the resolved device (lstmflow.fit.device) with clipping, the step (or
    epoch) budget and time budget, determinism and a checkpoint at every validation check (a
    Lightning epoch)."""
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import ModelCheckpoint

    from lstmflow.fit.checkpoint import AtomicCheckpointIO, FitState
    from lstmflow.fit.device import resolve_device

    t, device = cfg.training, resolve_device(cfg)
    callbacks = list(callbacks)
    plugins = []
    if checkpoint_dir is not None:
        # monitor=None + save_top_k=1: the newest epoch replaces `last.ckpt` (atomically), one file
        callbacks += [FitState(), ModelCheckpoint(
            dirpath=checkpoint_dir, filename=CHECKPOINT.removesuffix(".ckpt"), monitor=None,
            save_top_k=1, every_n_epochs=1, enable_version_counter=False,
        )]
        plugins.append(AtomicCheckpointIO(checkpoint_kind))
    kwargs: dict[str, Any] = dict(
        # every epoch is exactly one validation period, so the step budget is whole epochs:
        # Lightning's max_steps resumes a killed fit on shifted batches (checked in tests)
        max_epochs=budget.lightning_epochs if budget else (t.max_epochs or -1),
        min_epochs=budget.min_epochs if budget else None,
        max_time=timedelta(minutes=t.max_time_minutes),  # Lightning's Timer callback
        gradient_clip_val=t.gradient_clip or None,
        gradient_clip_algorithm="norm",
        callbacks=callbacks,
        accelerator=device.accelerator,
        precision=device.precision,
        devices=1,
        logger=False,
        enable_checkpointing=checkpoint_dir is not None,
        enable_progress_bar=progress,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        deterministic=t.deterministic,
        plugins=plugins,
    )
    kwargs.update(overrides)
    return pl.Trainer(**kwargs)


def training_callbacks(
    cfg: PipelineConfig, log: Callable[[str], None] | None = None, budget: Budget | None = None
) -> list:
    """Recorder, best-weight restore, per-check log line and early stopping (patience in
    validation checks), as in every fit."""
    from pytorch_lightning.callbacks import EarlyStopping

    from models.callbacks import BestWeights, EpochLogger, HistoryRecorder

    t = cfg.training
    return [
        HistoryRecorder(),
        BestWeights(),
        EpochLogger(log, budget.total_steps if budget and budget.mode == "steps" else None),
        # strict=False: a fit resumed at a check's end re-runs that epoch end before any new
        # validation (no val_loss yet); its counters come back from the checkpoint
        EarlyStopping(monitor="val_loss", patience=budget.patience if budget else t.patience,
                      min_delta=t.min_delta, mode="min", strict=False),
    ]
