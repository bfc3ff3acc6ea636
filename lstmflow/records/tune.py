"""tune.json and its trials, as typed records (lstmflow.records.base).

The keys are the file's public interface; a field added here is a key added to the file.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lstmflow.records.base import Record
from lstmflow.records.fanout import FanOutSummary


class TrialRecord(Record):
    """One stored trial of the study: its state (complete, pruned, fail, running, waiting),
    its validation error over naive's (`value`), its params, why it was pruned or failed, and
    what its fits recorded."""

    number: int
    state: str
    value: float | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    start: bool = False  # the small start trial of a new study
    finding: str | None = None  # what pruned it: divergence, plateau, ...
    reason: str | None = None
    last_report: float | None = None  # its last intermediate value
    wall_seconds: float | None = None
    folds: list[float | None] | None = None  # the value on each fold (completed trials)
    val_loss: list[float | None] | None = None  # best scaled validation loss of each fit
    # validation checks: one per fit for a completed trial, the count before a prune
    checks: list[int] | int | None = None


class TuneSummary(FanOutSummary):
    """tune.json: a tune run's record, also what the flow returns."""

    kind: Literal["tune"] = "tune"
    study: str | None = None
    storage: str | None = None
    stored_before: int | None = None  # set once the study is opened
    trials_seconds: float | None = None
    this_run: list[int] = Field(default_factory=list)
    trials: list[TrialRecord] = Field(default_factory=list)
    best: TrialRecord | None = None
    importances: dict[str, float] | None = None
    importance_note: str | None = None
    best_yaml: str | None = None
