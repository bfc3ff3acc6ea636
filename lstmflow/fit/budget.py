"""The training budget in optimizer steps and wall time, chosen from the data (plain functions).

Series lengths vary 100-fold, so an epoch is the wrong unit: 30 epochs are 240 updates on one
series and 30,000 on another. Here the budget is a number of optimizer steps that hardly depends
on the length; what grows with the data is the batch (more windows per step) and the pool of
distinct windows. A validation check every `val_check_steps` steps is one "epoch" for Lightning:
the sampler draws exactly that many batches from a continuing shuffled stream, so early stopping,
best weights, the plateau scheduler, the history rows and the resumable checkpoint all keep
working per check, and a check is never huge (no mid-epoch checkpoint is needed).

Setting `training.max_epochs` keeps the epoch budget of earlier versions (one check per pass
over the windows), with a deprecation note.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from lstmflow.config.fit import TrainingConfig

MAX_WINDOWS = 1_000_000  # auto stride keeps the pool of training origins below this
BATCH_RANGE = (16, 256)  # auto batch size bounds (powers of two)
CHECK_RANGE = (50, 200)  # auto steps between validation checks
DEFAULT_MAX_STEPS = 3000  # auto step budget; early stopping usually ends the fit first
MIN_CHECKS = 3  # auto min_steps: this many validation checks before early stopping may stop
LEGACY_BATCH, LEGACY_STRIDE = 128, 16  # the defaults of the epoch budget, kept with max_epochs
VAL_COST = 1 / 3  # a forward pass costs about a third of a training step per window


@dataclass(frozen=True)
class Budget:
    """The resolved budget of one fit; `auto` names the values chosen from the data."""

    mode: str  # "steps" or "epochs" (training.max_epochs set: the deprecated epoch budget)
    batch_size: int
    window_stride: int
    max_steps: int  # -1: no step cap (epoch mode)
    min_steps: int
    max_epochs: int  # -1: no epoch cap (step mode)
    steps_per_check: int  # optimizer steps between validation checks (one Lightning epoch)
    windows_per_check: int  # training windows drawn between checks
    patience: int  # validation checks without improvement before early stopping
    plateau_patience: int  # checks without improvement before the plateau scheduler lowers lr
    max_time_minutes: float
    train_windows: int = 0
    val_windows: int = 0
    auto: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # deprecations and what they now mean

    @property
    def total_steps(self) -> int:
        """The most optimizer steps this budget allows (for the cosine schedule's T_max): whole
        validation periods, so max_steps rounds up to a multiple of steps_per_check."""
        return self.lightning_epochs * self.steps_per_check

    @property
    def lightning_epochs(self) -> int:
        """Lightning epochs (validation periods) the budget allows."""
        if self.max_steps > 0:
            return math.ceil(self.max_steps / self.steps_per_check)
        return self.max_epochs

    @property
    def min_epochs(self) -> int:
        """Validation periods before early stopping may end the fit."""
        return math.ceil(self.min_steps / self.steps_per_check)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_steps": self.total_steps, "min_epochs": self.min_epochs}


def train_rows(arrays: Sequence[Any]) -> int:
    """Rows in the training parts of all series (SeriesArrays): what the stride is chosen from."""
    return sum(a.bounds.train_end for a in arrays)


def epoch_mode(t: TrainingConfig) -> bool:
    """The deprecated epoch budget: training.max_epochs is set."""
    return t.max_epochs is not None


def choose_stride(t: TrainingConfig, train_rows: int) -> int:
    """Steps between training windows: configured, the old 16 under max_epochs, else every
    origin while the pool stays under MAX_WINDOWS (windows are index views: a big pool is cheap)."""
    if t.window_stride is not None:
        return t.window_stride
    if epoch_mode(t):
        return LEGACY_STRIDE
    return max(1, math.ceil(train_rows / MAX_WINDOWS))


def choose_batch_size(train_windows: int) -> int:
    """A power of two near sqrt(windows / 4), in BATCH_RANGE: 1,000 windows -> 16, 16,000 -> 64,
    250,000 -> 256. Grows with the data, but slower than it, so the step budget buys a long
    series more windows per step without making each step as slow as the data is long."""
    raw = math.sqrt(max(train_windows, 1) / 4)
    b = 2 ** round(math.log2(max(raw, 1)))
    return int(min(max(b, BATCH_RANGE[0]), BATCH_RANGE[1]))


def choose_check_steps(train_windows: int, val_windows: int, batch: int) -> int:
    """Steps between validation checks: about one pass over the windows, in CHECK_RANGE, and
    enough steps that validating costs at most a quarter of the training between checks."""
    one_pass = math.ceil(train_windows / batch)
    val_cost = math.ceil(4 * VAL_COST * val_windows / batch)  # steps whose cost matches 4 x val
    lo, hi = CHECK_RANGE
    return int(max(min(max(one_pass, lo), hi), val_cost))


def resolve_budget(
    t: TrainingConfig, train_windows: int, val_windows: int, stride: int
) -> Budget:
    """The budget for a fit on `train_windows` training and `val_windows` validation windows."""
    auto: list[str] = []
    notes: list[str] = []
    if t.batch_size is None:
        batch = LEGACY_BATCH if epoch_mode(t) else choose_batch_size(train_windows)
        auto.append("batch_size")
    else:
        batch = t.batch_size
    if t.window_stride is None:
        auto.append("window_stride")
    plateau = t.lr_patience if t.lr_patience is not None else t.patience // 2
    common = dict(batch_size=batch, window_stride=stride, patience=t.patience,
                  plateau_patience=plateau, max_time_minutes=t.max_time_minutes,
                  train_windows=train_windows, val_windows=val_windows)
    if epoch_mode(t):
        per_epoch = min(train_windows, t.max_windows_per_epoch or train_windows)
        steps = max(1, math.ceil(per_epoch / batch))
        notes.append(
            f"training.max_epochs is deprecated: this fit uses the epoch budget ({t.max_epochs} "
            f"passes of {steps} steps, validation after each); remove it for a budget in "
            "optimizer steps (training.max_steps, val_check_steps)"
        )
        return Budget(mode="epochs", max_steps=-1, min_steps=t.min_steps or 0,
                      max_epochs=t.max_epochs, steps_per_check=steps,
                      windows_per_check=per_epoch, auto=auto, notes=notes, **common)
    if t.val_check_steps is not None:
        check = t.val_check_steps
    elif t.max_windows_per_epoch is not None:
        check = max(1, math.ceil(t.max_windows_per_epoch / batch))
        notes.append(
            "training.max_windows_per_epoch is deprecated with step budgets: it now sets the "
            f"windows drawn between validation checks (val_check_steps = {check}); set "
            "training.val_check_steps instead"
        )
    else:
        check = choose_check_steps(train_windows, val_windows, batch)
        auto.append("val_check_steps")
    if t.max_steps is None:
        max_steps = max(DEFAULT_MAX_STEPS, check * (MIN_CHECKS + t.patience))
        auto.append("max_steps")
    else:
        max_steps = t.max_steps
    if t.min_steps is None:
        min_steps = min(max_steps, MIN_CHECKS * check)
        auto.append("min_steps")
    else:
        min_steps = t.min_steps
    return Budget(mode="steps", max_steps=max_steps, min_steps=min_steps, max_epochs=-1,
                  steps_per_check=check, windows_per_check=check * batch, auto=auto,
                  notes=notes, **common)


WARM_MIN_CHECKS = 2  # a shortened (warm) fit validates at least this often


def shortened(b: Budget, share: float) -> Budget:
    """The budget of a fit that starts from trained weights: `share` of the steps (of the
    epochs under the epoch budget), in whole validation checks and at least WARM_MIN_CHECKS of
    them, and `share` of the patience too (at least one check): a fit that starts near its
    optimum and does not improve stops after its first checks instead of running its whole
    budget (with the cold patience of 5 checks, a 5-check warm budget never stopped early).
    Under the step budget it validates twice as often (half the steps a check): it starts near
    its optimum, and early stopping should see its first steps away from it."""
    patience = max(1, math.ceil(share * b.patience))
    plateau = max(1, math.ceil(share * b.plateau_patience))
    if b.mode == "epochs":
        epochs = max(WARM_MIN_CHECKS, math.ceil(share * b.max_epochs))
        return replace(b, max_epochs=min(epochs, b.max_epochs), min_steps=0, patience=patience,
                       plateau_patience=plateau, auto=[*b.auto, "warm start"])
    check = max(1, b.steps_per_check // 2)
    checks = max(WARM_MIN_CHECKS, math.ceil(share * b.max_steps / check))
    steps = min(b.max_steps, checks * check)
    return replace(b, max_steps=steps, min_steps=min(check, steps), steps_per_check=check,
                   windows_per_check=check * b.batch_size, patience=patience,
                   plateau_patience=plateau, auto=[*b.auto, "warm start"])


def describe_budget(b: Budget) -> str:
    """One log line: what the fit may spend and why."""
    auto = f" (chosen from the data: {', '.join(b.auto)})" if b.auto else ""
    if b.mode == "epochs":
        return (f"budget: {b.max_epochs} epochs of {b.steps_per_check} steps, batch "
                f"{b.batch_size}, stride {b.window_stride}, patience {b.patience} epochs, "
                f"<= {b.max_time_minutes:g} min{auto}")
    return (f"budget: <= {b.max_steps} steps (>= {b.min_steps}), validation every "
            f"{b.steps_per_check} steps, patience {b.patience} checks, batch {b.batch_size} "
            f"of {b.train_windows} windows (stride {b.window_stride}), "
            f"<= {b.max_time_minutes:g} min{auto}")
