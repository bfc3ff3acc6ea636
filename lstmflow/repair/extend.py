"""A repair that only lengthens a fit continues it from its last checkpoint instead of refitting.

With the same seed, a refit with a larger step budget replays the first fit step for step before
it gets anywhere new; continuing from the parent's `last.ckpt` (weights, optimiser, scheduler,
early-stopping state, best weights and the recorded curve) spends the whole time on new steps.
The copy starts the clock afresh (Lightning's Timer would resume the parent's elapsed time) and
clears a stop the parent's time limit had signalled.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstmflow.durable import write_atomic
from lstmflow.repair.candidates import Candidate

LENGTHEN = {"training.max_steps", "training.min_steps", "training.patience",
            "training.max_epochs"}  # a remedy of only these keys lengthens the same fit
# what a continued fit honours: early stopping's patience and the plateau scheduler's come back
# from the checkpoint (a patience remedy would be ignored), as does the cosine length
CONTINUABLE = {"training.max_steps", "training.min_steps", "training.max_epochs"}


def lengthens(parent: dict[str, str], overrides: dict[str, str]) -> bool:
    """Whether `overrides` differ from the parent's only in keys a continued fit honours."""
    changed = {k for k, v in overrides.items() if parent.get(k) != v}
    return bool(changed) and changed <= CONTINUABLE and set(parent) <= set(overrides)


def continues_from(parent: Candidate, overrides: dict[str, str]) -> Path | None:
    """The parent's last checkpoint when the next attempt only lengthens its fit, else None
    (also under the cosine schedule: its length comes back from the checkpoint, so the extra
    steps would climb back to the full rate)."""
    fit = parent.fit
    if fit is None or not fit.checkpoint or not lengthens(parent.overrides, overrides):
        return None
    if parent.cfg.training.scheduler == "cosine":
        return None
    path = Path(fit.checkpoint)
    return path if path.is_file() else None


def seed_checkpoint(src: Path, dst: Path, kind: str) -> None:
    """The parent's checkpoint where the attempt resumes from (written whole or not at all),
    with its Timer at zero and no stop pending: the attempt's own time limit applies. The
    parent's learning-rate finder result goes along (`learning_rate: auto` reuses it on resume
    instead of running the finder again for a rate the optimiser state already holds)."""
    from lstmflow.fit.checkpoint import FitState  # imports Lightning: only when a fit continues
    from lstmflow.fit.lr_find import LR_FIND

    found = src.parent.parent / LR_FIND  # <parent's folder>/checkpoints/last.ckpt
    if found.is_file():
        write_atomic(dst.parent.parent / LR_FIND, lambda out: out.write(found.read_bytes()),
                     f"attempt-{LR_FIND}")

    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    for name, state in ckpt.get("callbacks", {}).items():
        if name.startswith("Timer"):
            state["time_elapsed"] = {stage: 0.0 for stage in state.get("time_elapsed", {})}
    ckpt[FitState.KEY] = {"should_stop": False}
    write_atomic(dst, lambda out: torch.save(ckpt, out), kind)
