"""backtest.json and its folds, as typed records (lstmflow.records.base).

The keys are the file's public interface; a field added here is a key added to the file. The
metrics block (lstmflow.report.summary.metrics_block) and the spread across folds
(lstmflow.backtest.results.across_folds) keep the layout their modules give them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lstmflow.records.base import Record
from lstmflow.records.fanout import FanOutSummary
from lstmflow.records.run import Finding, GateResult, Status, Training


class FoldRecord(Record):
    """One walk-forward fold: its dates and rows, where it ran, its model-input gate, how it
    trained, its test metrics, whether it beat each baseline, its diagnosis; or why it failed
    (`status` failed: its gate refused it or its fit broke; error: its task raised)."""

    fold: int
    status: Status
    cutoff: str | None = None  # the last row the model may know (the latest over series)
    cutoff_earliest: str | None = None  # only when the series' cut-offs differ
    test_start: str | None = None
    test_end: str | None = None
    series: int | None = None
    rows: int | None = None
    where: str | None = None  # host, pid and thread that ran it
    train_rows: int | None = None
    input_gate: GateResult | None = None
    diagnosis: list[Finding] | None = None
    torch_threads: int | None = None
    training: Training | None = None  # epochs_run, best_epoch, best_val_loss, seconds, windows
    metrics: dict[str, Any] | None = None
    beats: dict[str, bool] | None = None  # naive, seasonal_naive
    seconds: float | None = None
    reason: str | None = None


class BacktestSummary(FanOutSummary):
    """backtest.json: a backtest's record, also what the flow returns."""

    kind: Literal["backtest"] = "backtest"
    step: int | None = None  # steps between cut-offs
    folds_seconds: float | None = None  # wall time of all folds
    folds: list[FoldRecord] = Field(default_factory=list)
    across: dict[str, Any] | None = None
