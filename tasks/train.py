"""Train task: the core's fit with the config's guards, logging each check to Prefect."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.core import FitResult, Fitted, Forecaster
from lstmflow.data.prepare import Prepared
from lstmflow.durable import sweep
from lstmflow.fit.train import save_history
from lstmflow.runs import checkpoint_path, save_run_config


@task(name="train", cache_policy=NO_CACHE)
def train_task(forecaster: Forecaster, prepared: Prepared, run_dir: Path,
               resume: bool = False, init: Fitted | None = None, track: Any = None,
               calibration: Any = None) -> FitResult:
    """Fit (or resume from the run's last checkpoint; start from `init`'s weights over a
    shorter budget: a warm start) and save the per-check history; a fit that left no model
    comes back with its curves (`FitResult.ok` False) for the diagnosis."""
    log = get_run_logger()
    if resume:
        log.info(f"resuming from {checkpoint_path(run_dir)}")
        for folder in (run_dir, checkpoint_path(run_dir).parent):  # the run lock is ours
            for name in sweep(folder):
                log.info(f"removed '{folder / name}', left by the killed process")
    else:
        save_run_config(forecaster.cfg, run_dir)  # before the first checkpoint: --resume finds it
    fit = forecaster.fit(prepared, run_dir=run_dir, resume=resume, log=log.info,
                         progress=sys.stderr.isatty(), init=init, track=track,
                         calibration=calibration,
                         lr_scale=forecaster.cfg.training.warm_lr_scale if init is not None else 1)
    save_history(fit.history, run_dir)  # also when the fit broke: the diagnosis reads it
    if not fit.ok:
        log.error(fit.error)
        return fit
    t = fit.train
    log.info(f"trained {t.steps_run} steps ({t.epochs_run} validation checks) in "
             f"{t.seconds:.1f}s on {t.windows}; best val_loss {t.best_val_loss:.4f} at check "
             f"{t.best_epoch + 1}")
    return fit
