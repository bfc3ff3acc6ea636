"""summary.json of a training run and its parts, as typed records (lstmflow.records.base).

The keys are the file's public interface (README "Outputs"); a field added here is a key
added to the file. Parts whose inner layout is owned by another module (the ingest report, the
metrics block of lstmflow.report.summary.metrics_block, the data statistics) stay plain
mappings under a typed key.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field

from lstmflow.records.base import Record

Severity = Literal["error", "warning", "info"]
# running, completed, failed (an expected error: one-line reason) or error (a crash); a report
# rebuilt from a killed run's folder says interrupted
Status = str


class Remedy(Record):
    advice: str = ""
    overrides: list[str] = Field(default_factory=list)  # `--set` values a refit can apply


class Finding(Record):
    """One diagnosis finding: what went wrong, how bad, the run's own numbers, what to change."""

    finding: str
    severity: Severity
    evidence: str = ""
    remedy: Remedy = Remedy()
    series: list[str] | None = None  # the series it names, worst first (when it names some)


class GateRow(Record):
    suite: str | None = None
    column: str | None = None
    rule: str | None = None
    severity: str | None = None
    unexpected_count: int | None = None
    examples: list[Any] | None = None
    error: str | None = None


class GateResult(Record):
    """A data-quality gate as summary.json keeps it, with the paths of its table and Data Docs
    (extra keys: `table`, `data_docs`, ...)."""

    success: bool
    evaluated: int = 0
    failed: list[GateRow] = Field(default_factory=list)
    warnings: list[GateRow] = Field(default_factory=list)
    table: str | None = None  # the gate's table (CSV) in the run folder
    data_docs: str | None = None  # its Great Expectations Data Docs page


class ChampionBefore(Record):
    version: str | None = None
    error: str | None = None


class Promotion(Record):
    """What registration did with the model: where it is, its status, whether it became
    champion and why, and the champion it was compared with."""

    model_path: str
    promoted: bool
    status: Literal["champion", "candidate", "rejected"]
    reason: str
    champion_before: ChampionBefore | None = None
    swept: list[str] | None = None


class Training(Record):
    """How the chosen fit trained (summary.json's `training`)."""

    epochs_run: int
    best_epoch: int
    best_val_loss: float | None = None
    seconds: float
    windows: dict[str, int] = Field(default_factory=dict)
    history_path: str | None = None
    resumed_from_epoch: int | None = None
    checkpoint: str | None = None
    continued_from_epoch: int | None = None
    steps_run: int | None = None
    budget: dict[str, Any] = Field(default_factory=dict)
    learning_rate: float | None = None
    segment_len: int | None = None
    calibration_seconds: float | None = None  # fitting the intervals on validation
    device: str | None = None  # where the network trained ("cpu 32-true", "gpu bf16-mixed")
    start: str | None = None  # "warm" (from the champion's weights) or "cold"
    start_reason: str | None = None
    warm_from: str | None = None  # the champion version a warm start began from
    # the champion's repair changes this run took to start warm from it (--set form)
    adopted: list[str] | None = None
    champion_val_rel_mae: float | None = None  # its validation MAE over naive's (model alone)
    warm_val_rel_mae: float | None = None  # the warm fit's, on the same validation period


class RepairBlock(Record):
    chosen: int | None = None
    stopped: str
    score: str
    score_means: str | None = None
    attempts: int
    skipped: list[str] = Field(default_factory=list)


class FlowRun(Record):
    """What every flow run's record holds (summary.json, backtest.json, tune.json): the run,
    its config, the data and its gate, how it ended."""

    status: Status
    run_id: str
    run_dir: str | None = None
    flow_run_id: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    data_fingerprint: str | None = None
    ingest: dict[str, Any] | None = None
    gate: GateResult | None = None
    reason: str | None = None
    error_type: str | None = None
    report_path: str | None = None

    def fail(self, status: Status, exc: BaseException) -> Self:
        """Record why the run stopped: the message (with the type for unexpected errors)."""
        reason = str(exc) if status == "failed" else f"{type(exc).__name__}: {exc}"
        return self.update(status=status, reason=reason, error_type=type(exc).__name__)


class RunSummary(FlowRun):
    """summary.json: a training run's record, also what the flow returns."""

    input_gate: GateResult | None = None
    preprocess: dict[str, Any] | None = None
    training: Training | None = None
    metrics: dict[str, Any] | None = None
    diagnosis: list[Finding] | None = None
    data_stats: dict[str, Any] | None = None
    attempts: list[dict[str, Any]] | None = None
    repair: RepairBlock | None = None
    promotion: Promotion | None = None
    model_path: str | None = None
    promoted: bool | None = None
    promotion_reason: str | None = None
    skipped: bool | None = None
    trigger_event: str | None = None  # the event a deployment trigger started this run on
