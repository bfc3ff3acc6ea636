"""What backtest.json and tune.json share (lstmflow.records.backtest, .tune): the run, its
config, the data and its gate, how the work fanned out, how the run ended.

`flows.runners.open_run` starts one with the keys every such file has; the flow sets the
others as its steps return.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field

from lstmflow.records.base import Record
from lstmflow.records.run import GateResult, Status


class FanOutSummary(Record):
    """The part of a fan-out run's record (backtest, tune) that is not its folds or trials."""

    kind: str = ""  # each kind's record names its own (a file written before `kind` has none)
    status: Status
    run_id: str
    run_dir: str | None = None
    flow_run_id: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    data_fingerprint: str | None = None
    ingest: dict[str, Any] | None = None
    gate: GateResult | None = None
    fan_out: dict[str, Any] | None = None  # lstmflow.runtime.FanOut as a dict, with its `text`
    seconds: float | None = None
    reason: str | None = None
    error_type: str | None = None
    report_path: str | None = None

    def fail(self, status: Status, exc: BaseException) -> Self:
        """Record why the run stopped: the message (with the type for unexpected errors)."""
        reason = str(exc) if status == "failed" else f"{type(exc).__name__}: {exc}"
        return self.update(status=status, reason=reason, error_type=type(exc).__name__)
