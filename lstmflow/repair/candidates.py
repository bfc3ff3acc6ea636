"""The attempts of an automatic repair (lstmflow.repair.policy): one fit of the core each,
judged on the validation period, and the repair's outcome as summary.json records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.core import FitResult
from lstmflow.data.prepare import Prepared
from lstmflow.fit.diagnosis import fit_broken
from lstmflow.fit.train import TrainResult
from lstmflow.repair.selection import SCORE, SCORE_TEXT

PROBLEMS = ("error", "warning")


@dataclass
class Candidate:
    """One fit of a repair: its overrides of the run's config and how it did on validation."""

    index: int
    overrides: dict[str, str]  # key -> value as --set writes it, over the run's config
    cfg: PipelineConfig  # the run's config with the overrides (the one registered if chosen)
    result: FitResult | None  # the core's fit (None: it never ran, `error` says why)
    findings: list[dict[str, Any]]  # the validation diagnosis
    points: pd.DataFrame  # scored validation points (selection.KEY, actual, model, naive)
    secs: float
    parent: int | None = None
    remedy_for: str | None = None  # the finding whose remedy made this attempt
    error: str | None = None
    val: dict[str, Any] = field(default_factory=dict)  # selection.compare's figures
    start: str = "cold"  # cold, warm (the parent's weights) or continued (its checkpoint)

    @property
    def fit(self) -> TrainResult | None:
        """The trained network's record (None: the fit left no model or never ran)."""
        return self.result.train if self.result is not None else None

    @property
    def prepared(self) -> Prepared | None:
        return self.result.prepared if self.result is not None else None

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.result.history if self.result is not None else []

    @property
    def usable(self) -> bool:
        return self.fit is not None and len(self.points) > 0 and not fit_broken(self.findings)

    @property
    def healthy(self) -> bool:
        return self.error is None and not any(f["severity"] in PROBLEMS for f in self.findings)

    def record(self) -> dict[str, Any]:
        """What summary.json and attempt.json keep of it."""
        fit = self.fit
        return {
            "attempt": self.index, "overrides": [f"{k}={v}" for k, v in self.overrides.items()],
            "parent": self.parent, "remedy_for": self.remedy_for, **self.val,
            "val_loss": fit.best_val_loss if fit else None, "usable": self.usable,
            "findings": self.findings, "secs": round(self.secs, 2), "error": self.error,
            "start": self.start if self.index else "first fit",
        }


@dataclass
class Repair:
    attempts: list[Candidate]
    chosen: int | None  # None: no attempt is usable
    stopped: str  # why no further attempt was made: a key of report.summary.STOPPED
    skipped: list[str] = field(default_factory=list)  # remedies the config refused, and why

    @property
    def best(self) -> Candidate:
        """The chosen attempt, or attempt 0 when none is usable."""
        return self.attempts[self.chosen or 0]

    def records(self) -> list[dict[str, Any]]:
        return [{**a.record(), "chosen": a.index == self.chosen} for a in self.attempts]

    def block(self) -> dict[str, Any]:
        """summary.json's `repair`: the choice, why repair stopped, and the score's name."""
        return {"chosen": self.chosen, "stopped": self.stopped, "score": SCORE,
                "score_means": SCORE_TEXT, "attempts": len(self.attempts),
                "skipped": self.skipped}
