"""What backtest.json and tune.json share (lstmflow.records.backtest, .tune): the run, its
config, the data and its gate, how the work fanned out, how the run ended.

`flows.runners.open_run` starts one with the keys every such file has; the flow sets the
others as its steps return.
"""

from __future__ import annotations

from typing import Any

from lstmflow.records.run import FlowRun


class FanOutSummary(FlowRun):
    """The part of a fan-out run's record (backtest, tune) that is not its folds or trials."""

    kind: str = ""  # each kind's record names its own (a file written before `kind` has none)
    fan_out: dict[str, Any] | None = None  # lstmflow.runtime.FanOut as a dict, with its `text`
    seconds: float | None = None
