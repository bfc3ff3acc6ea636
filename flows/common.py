"""What every flow shares: the run id, the expected errors that end a run Failed with one line,
the raw-data gate after ingestion, and the unwrapping of a task that returned a Failed state on
purpose."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger

from expectations.runner import describe_failure, gate_message
from lstmflow.config import ConfigError, PipelineConfig
from lstmflow.data.ingest import IngestResult
from lstmflow.data.schema import DataError
from lstmflow.locks import LockBusy
from lstmflow.records.run import GateResult
from lstmflow.report.summary import gate_block
from lstmflow.runs import TrainingError
from lstmflow.serve.manifest import RegistryError
from lstmflow.store.location import StoreError
from tasks.validate import ingested_gate_task


class GateFailed(RuntimeError):
    """A data-quality gate refused the data; the message lists each failed expectation, and
    the gate's record goes into the run's record under `key` ('gate', 'input_gate')."""

    def __init__(self, message: str, key: str | None = None, record: GateResult | None = None,
                 warnings: list[str] | None = None) -> None:
        super().__init__(message)  # args stay (message,): the error pickles like any other
        self.key, self.record, self.warnings = key, record, warnings or []


@dataclass(frozen=True)
class GateCheck:
    """A gate that passed: its record (None when the gates are off) and its warnings."""

    record: GateResult | None
    warnings: list[str]


EXPECTED_ERRORS = (GateFailed, DataError, ConfigError, TrainingError, RegistryError, LockBusy,
                   StoreError)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def unwrap(state) -> Any:
    """What a task returned, also when it returned a Failed state on purpose (a refused gate,
    a broken fit); an exception it raised is raised here."""
    out = state.result(raise_on_failure=False)
    if isinstance(out, BaseException):
        raise out
    return out


def gate_record(gate: dict[str, Any]) -> GateResult:
    """The gate block of a summary, with the paths of its table and Data Docs."""
    return GateResult.from_json({**gate_block(gate), **(gate.get("files") or {})})


def gate_warnings(gate: dict[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    """One line per warning-level expectation that failed (checks in `skip` left out)."""
    return [describe_failure(r) for r in gate["warnings"] if r["check"] not in skip]


def raw_gate(data: IngestResult, cfg: PipelineConfig, run_dir: Path) -> GateCheck:
    """Gate 1 on the ingested data (its table and Data Docs go to the run folder); raises
    GateFailed, carrying its record, when it refuses the data."""
    if not cfg.quality.enabled:
        warning = "data-quality gates are off (quality.enabled: false)"
        get_run_logger().warning(warning)
        return GateCheck(None, [warning])
    gate = unwrap(ingested_gate_task(data.frame, cfg, data.report, run_dir, return_state=True))
    # the history check is said once, by the short-series step
    warnings = gate_warnings(gate, skip=("history",))
    if not gate["success"]:
        raise GateFailed(gate_message("ingested", gate), "gate", gate_record(gate), warnings)
    return GateCheck(gate_record(gate), warnings)
