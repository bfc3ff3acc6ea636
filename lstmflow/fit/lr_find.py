"""`training.learning_rate: auto`: Lightning's learning-rate finder on the training split.

The finder trains a throwaway copy of the model for a few steps while the rate grows
exponentially, and suggests the rate where the loss falls fastest. The curve and the choice
are kept as `lr_find.json` in the run folder (the report draws it; summary.json has the value).
A resumed run reads its earlier choice instead of searching again.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lstmflow.config import PipelineConfig
from lstmflow.fit.budget import Budget
from lstmflow.fit.model import build_model
from lstmflow.runs import write_json

LR_FIND = "lr_find.json"
MIN_LR, MAX_LR = 1e-5, 1e-1
FALLBACK_LR = 1e-3  # the default rate, when the curve gives no usable suggestion


def lr_find_steps(budget: Budget) -> int:
    """Finder steps: 100 (Lightning's default), fewer when the whole budget is small."""
    return int(max(10, min(100, budget.total_steps // 4)))


def find_learning_rate(model, train_dl, val_dl, cfg: PipelineConfig, steps: int) -> dict[str, Any]:
    """Run Lightning's `Tuner.lr_find` on `model` (its weights are restored afterwards);
    returns {suggestion, lr: [...], loss: [...], steps, min_lr, max_lr}."""
    import pytorch_lightning as pl
    from pytorch_lightning.tuner import Tuner

    from lstmflow.fit.device import resolve_device

    device = resolve_device(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = pl.Trainer(
            accelerator=device.accelerator, precision=device.precision, devices=1,
            logger=False, enable_checkpointing=False,
            enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp,
            gradient_clip_val=cfg.training.gradient_clip or None, num_sanity_val_steps=0,
        )
        finder = Tuner(trainer).lr_find(
            model, train_dataloaders=train_dl, val_dataloaders=val_dl, min_lr=MIN_LR,
            max_lr=MAX_LR, num_training=steps, update_attr=False,
        )
    curve = finder.results if finder is not None else {"lr": [], "loss": []}
    suggestion = finder.suggestion() if finder is not None else None
    return {
        "suggestion": float(suggestion) if suggestion and math.isfinite(suggestion) else None,
        "lr": [float(v) for v in curve["lr"]],
        "loss": [float(v) if math.isfinite(v) else None for v in curve["loss"]],
        "steps": steps, "min_lr": MIN_LR, "max_lr": MAX_LR,
    }


def auto_learning_rate(
    cfg: PipelineConfig, budget: Budget, n_inputs: int, train_dl, val_dl,
    run_dir: Path | None, resume: bool, log: Callable[[str], None], n_known: int = 0,
) -> float:
    """The learning rate for `learning_rate: auto`: found on the training windows (saved with
    its curve in `<run_dir>/lr_find.json`), or the earlier choice when resuming."""
    path = Path(run_dir) / LR_FIND if run_dir is not None else None
    if resume and path is not None and path.is_file():
        chosen = float(json.loads(path.read_text(encoding="utf-8"))["chosen"])
        log(f"learning rate {chosen:.3g} (found before the interruption, {path})")
        return chosen
    result = find_learning_rate(build_model(cfg, n_inputs, budget, n_known=n_known), train_dl, val_dl, cfg,
                                lr_find_steps(budget))
    chosen = result["suggestion"] or FALLBACK_LR
    result["chosen"] = chosen
    if path is not None:
        write_json(path, result)
    how = "suggested" if result["suggestion"] else "no usable suggestion; the default"
    log(f"learning rate {chosen:.3g} ({how}) from the learning-rate finder over "
        f"{result['steps']} steps in [{MIN_LR:g}, {MAX_LR:g}]")
    return chosen
