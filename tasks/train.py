"""Train task: fit the LSTM with the config's guards, logging each epoch to Prefect."""

from __future__ import annotations

import sys
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.durable import sweep
from lstmflow.fit.train import FitDiverged, TrainResult, save_history, train_model
from lstmflow.runs import checkpoint_path, save_run_config


@task(name="train", cache_policy=NO_CACHE)
def train_task(
    prepared: Prepared, cfg: PipelineConfig, run_dir: Path, resume: bool = False
) -> TrainResult:
    """Train (or resume from the run's last checkpoint), save the per-epoch history, return
    the best-epoch model."""
    log = get_run_logger()
    if resume:
        log.info(f"resuming from {checkpoint_path(run_dir)}")
        for folder in (run_dir, checkpoint_path(run_dir).parent):  # the run lock is ours
            for name in sweep(folder):
                log.info(f"removed '{folder / name}', left by the killed process")
    else:
        save_run_config(cfg, run_dir)  # before the first checkpoint, so --resume finds it
    try:
        result = train_model(prepared.arrays, cfg, log=log.info, progress=sys.stderr.isatty(),
                             run_dir=run_dir, resume=resume)
    except FitDiverged as exc:  # keep what was recorded: the diagnosis reads it
        save_history(exc.history, run_dir)
        raise
    save_history(result.history, run_dir)
    log.info(
        f"trained {result.steps_run} steps ({result.epochs_run} validation checks) in "
        f"{result.seconds:.1f}s on {result.windows} windows; best val_loss "
        f"{result.best_val_loss:.4f} at check {result.best_epoch + 1}"
    )
    return result
