"""Fit the LSTM on prepared arrays with the guards from the config (plain function, no Prefect)."""

from __future__ import annotations

import csv
import io
import logging
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
from lstmflow.fit.budget import Budget, describe_budget, resolve_budget, shortened
from lstmflow.fit.model import build_datasets, build_model, fit_generator, segment_len, window_stride
from lstmflow.fit.trainer import build_trainer, training_callbacks
from lstmflow.runs import HISTORY, TrainingError, checkpoint_path, write_json
from lstmflow.runtime import apply_torch_threads


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
    device: str | None = None  # where it trained: accelerator and precision ("cpu 32-true")


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


def train_model(
    arrays: Sequence[SeriesArrays],
    cfg: PipelineConfig,
    log: Callable[[str], None] | None = None,
    progress: bool = False,
    run_dir: Path | None = None,
    resume: bool = False,
    extra_callbacks: Sequence[Any] = (),
    checkpoint_kind: str | None = None,
    init: Any = None,
    share: float | None = None,
    track: Any = None,
    lr_scale: float = 1.0,
) -> TrainResult:
    """Train within the step and time budget (lstmflow.fit.budget), early stopping on val loss,
    the best check's weights kept. `run_dir`: a checkpoint at every check (checkpoints/last.ckpt,
    `checkpoint_kind` naming its crash points) that `resume` continues (weights_only). All that
    is random follows `training.seed`. `init`: a network of the same shape to start from, over
    `share` of the budget at `lr_scale` of the rate; `track`: a tracker run for each check."""
    import pytorch_lightning as pl

    from lstmflow.fit.checkpoint import checkpoint_epochs
    from models.callbacks import BestWeights, HistoryRecorder

    apply_torch_threads(cfg.runtime)  # every fit, so side-by-side runs share cores
    ckpt = checkpoint_path(run_dir) if run_dir is not None else None
    resumed_from = checkpoint_epochs(ckpt) if resume else None
    cfg = _as_checkpointed(cfg, ckpt) if resume else cfg
    emit = log or logging.getLogger("lstmflow").info
    data = _windows(arrays, cfg, emit, share)
    # The fit's own random streams: shuffles from the sampler's (seed, pass) generators, weights
    # from `fit_generator`; dropout from torch's process-wide stream, seeded here: a fit alone
    # reruns bit-identically (threads of one process share that stream, processes do not).
    pl.seed_everything(cfg.training.seed, workers=True, verbose=False)
    model = _network(cfg, arrays[0], data, run_dir, resume, emit, init, lr_scale)
    callbacks = [*training_callbacks(cfg, log, data.budget), *extra_callbacks, *_tracked(track)]
    trainer = build_trainer(cfg, callbacks, progress,
                            ckpt.parent if ckpt is not None else None, data.budget,
                            checkpoint_kind)
    seconds = _run_fit(trainer, model, data, ckpt if resume else None)
    model.cpu()  # evaluation, the registry and predict run on the CPU
    recorder, best = (next(c for c in callbacks if isinstance(c, kind))
                      for kind in (HistoryRecorder, BestWeights))
    if best.state is None:
        raise FitDiverged(
            "training produced no finite validation loss: the fit diverged. Lower "
            "training.learning_rate, keep training.gradient_clip on, check the scaling.",
            recorder.epochs, seconds,
        )
    return TrainResult(
        model=model, history=recorder.epochs, best_val_loss=best.best,
        best_epoch=best.best_epoch, epochs_run=trainer.current_epoch, seconds=seconds,
        windows={"train": len(data.train_dl.dataset), "val": len(data.val_dl.dataset),
                 "train_per_epoch": data.budget.windows_per_check},
        resumed_from_epoch=resumed_from, checkpoint=str(ckpt) if ckpt is not None else None,
        stack=data.train_dl.dataset.stack, budget=data.budget.as_dict(),
        steps_run=trainer.global_step, learning_rate=float(model.hparams.learning_rate),
        device=f"{trainer.accelerator.__class__.__name__.removesuffix('Accelerator').lower()} "
               f"{trainer.precision}",
    )


def _tracked(track: Any) -> list:
    """The callback that sends each check to the tracker run `track` (none without one)."""
    if track is None:
        return []
    from lstmflow.fit.track_callback import TrackCurves

    return [TrackCurves(track)]


def _network(cfg: PipelineConfig, first: SeriesArrays, data: _Windows, run_dir: Path | None,
             resume: bool, emit: Callable[[str], None], init: Any = None,
             lr_scale: float = 1.0):
    """The module to train: its rate found first when `learning_rate: auto` (a warm start
    keeps the rate its network was trained with), times `lr_scale`; its weights `init`'s when
    given."""
    lr, n_inputs, n_known = None, first.x.shape[1], first.n_known  # inputs: `first`'s x
    if init is not None and cfg.training.learning_rate == "auto":
        hp = getattr(init, "trained_with", None) or getattr(init, "hparams", None) or {}
        lr = hp.get("learning_rate")
    if cfg.training.learning_rate == "auto" and lr is None:
        from lstmflow.fit.lr_find import auto_learning_rate

        lr = auto_learning_rate(cfg, data.budget, n_inputs, data.train_dl, data.val_dl,
                                run_dir, resume, emit, n_known)
    if lr_scale != 1.0:
        lr = (lr if lr is not None else cfg.training.learning_rate) * lr_scale
        emit(f"learning rate {lr:.3g}: {lr_scale:g} of the rate, continuing trained weights")
    model = build_model(cfg, n_inputs, data.budget, lr, fit_generator(cfg), n_known)
    if init is not None:  # a warm start: the same network, trained weights
        model.load_state_dict(init.state_dict())
    return model


def _as_checkpointed(cfg: PipelineConfig, ckpt: Path) -> PipelineConfig:
    """A resumed fit's config: with `model.segment_len` automatic, the network the checkpoint
    holds (the rule may have changed since it was written)."""
    from lstmflow.fit.checkpoint import checkpoint_segment_len

    if cfg.model.segment_len is not None:
        return cfg
    return cfg.model_copy(update={"model": cfg.model.model_copy(
        update={"segment_len": checkpoint_segment_len(ckpt)})})


@dataclass(frozen=True)
class _Windows:
    """The fit's data: its budget and its train and validation loaders."""

    budget: Budget
    train_dl: Any
    val_dl: Any


def _windows(arrays: Sequence[SeriesArrays], cfg: PipelineConfig,
             emit: Callable[[str], None], share: float | None = None) -> _Windows:
    """Training and validation windows, the budget chosen from them (said in the log), and
    their loaders; a TrainingError when no window of either split fits. Lightning's rank-zero
    notices (the trainer's start-up lines) are quietened here, before the trainer is built."""
    from models.data import loader

    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    t = cfg.training
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
    budget = shortened(budget, share) if share is not None else budget
    for note in budget.notes:
        emit(f"warning: {note}")
    p = segment_len(cfg)
    emit(f"{describe_budget(budget)}; the LSTM reads {p}-step segments "
         f"({cfg.forecast.input_size // p} recurrent steps a window)")
    train_dl = loader(train_ds, budget.batch_size, shuffle=True, seed=t.seed,
                      cap=t.max_windows_per_epoch if budget.mode == "epochs" else None,
                      steps=budget.steps_per_check if budget.mode == "steps" else None)
    return _Windows(budget, train_dl, loader(val_ds, budget.batch_size * 4, shuffle=False))


def _run_fit(trainer, model, data: _Windows, resume_from: Path | None) -> float:
    """`trainer.fit` with Lightning's expected warnings quiet and subnormals flushed; the
    seconds it took. A checkpoint of another network is refused with a TrainingError."""
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
            trainer.fit(model, data.train_dl, data.val_dl,
                        ckpt_path=str(resume_from) if resume_from is not None else None,
                        weights_only=True if resume_from is not None else None)
        except RuntimeError as exc:
            if resume_from is not None and "state_dict" in str(exc):
                raise TrainingError(
                    f"cannot resume: checkpoint '{resume_from}' does not fit the model of this "
                    f"config ({str(exc).splitlines()[0]}); resume with the run's own config"
                ) from exc
            raise
        finally:
            torch.set_flush_denormal(False)
    return time.perf_counter() - start
