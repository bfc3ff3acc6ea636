"""Checkpoints that survive a kill, and resuming a fit that had already finished.

Lightning's own write (lightning_fabric.utilities.cloud_io._atomic_save, 2.6) serialises to
memory, then writes through an fsspec transaction: the local file goes to a temp file in the
*system* temp folder and is `shutil.move`d onto the target at commit. That is an atomic rename
only when the temp folder and the run folder share a filesystem; otherwise (a tmpfs /tmp, a
mounted output volume) it is a copy, and a kill during the copy leaves a truncated last.ckpt in
place of the previous good one. Nothing is fsynced, and a killed writer leaves its temp file in
/tmp. `AtomicCheckpointIO` writes beside the target instead (lstmflow.durable.write_atomic):
temp file, fsync, os.replace, fsync of the folder.

`FitState` records in each checkpoint whether the fit had decided to stop (early stopping), so
resuming a run killed after its fit ended runs no further epoch and returns the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from lstmflow.durable import write_atomic
from lstmflow.runs import TrainingError


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save into a temp file beside the target, fsync, rename (local paths); `kind`
    names its crash points (default: the file name)."""

    def __init__(self, kind: str | None = None) -> None:
        super().__init__()
        self.kind = kind

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        write_atomic(Path(path), lambda f: torch.save(checkpoint, f), self.kind)


class FitState(pl.Callback):
    """Keep `trainer.should_stop` in the checkpoint and restore it when a fit resumes."""

    KEY = "lstmflow_fit_state"

    def __init__(self) -> None:
        self.stopped = False

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        checkpoint[self.KEY] = {"should_stop": bool(trainer.should_stop)}

    def on_load_checkpoint(self, trainer, pl_module, checkpoint: dict[str, Any]) -> None:
        self.stopped = bool(checkpoint.get(self.KEY, {}).get("should_stop", False))

    def on_train_start(self, trainer, pl_module) -> None:
        if self.stopped:  # the fit had ended (early stop): no further epoch
            trainer.should_stop = True


def checkpoint_epochs(ckpt: Path | None) -> int:
    """Epochs completed in the checkpoint to resume (read with weights_only=True: no pickled
    code runs), or a TrainingError saying why it cannot be resumed."""
    if ckpt is None or not ckpt.is_file():
        raise TrainingError(
            f"cannot resume: no checkpoint at '{ckpt}'. The run was killed before its "
            "first epoch ended, or it was not checkpointed; start a new run instead."
        )
    try:
        return int(torch.load(ckpt, map_location="cpu", weights_only=True)["epoch"]) + 1
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise TrainingError(
            f"cannot resume: checkpoint '{ckpt}' is truncated or corrupt ({first}); start a new "
            "run instead"
        ) from None


def checkpoint_segment_len(ckpt: Path) -> int:
    """The segment length of the network in a checkpoint: 1 for one written before
    model.segment_len existed (the step-by-step LSTM)."""
    hp = torch.load(ckpt, map_location="cpu", weights_only=True).get("hyper_parameters") or {}
    return int(hp.get("segment_len") or 1)
