"""Train task: fit the LSTM with the config's guards, logging each epoch to Prefect."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.prepare import Prepared
from lstmflow.train import TrainResult, train_model


@task(name="train", cache_policy=NO_CACHE)
def train_task(prepared: Prepared, cfg: PipelineConfig, run_dir: Path) -> TrainResult:
    """Train, save the per-epoch history next to the run, return the best-epoch model."""
    log = get_run_logger()
    result = train_model(prepared.arrays, cfg, log=log.info, progress=sys.stderr.isatty())
    (run_dir / "history.json").write_text(json.dumps(result.history, indent=2), encoding="utf-8")
    log.info(
        f"trained {result.epochs_run} epochs in {result.seconds:.1f}s on {result.windows} windows; "
        f"best val_loss {result.best_val_loss:.4f} at epoch {result.best_epoch + 1}"
    )
    return result
