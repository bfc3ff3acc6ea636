"""Gate tasks: run a Great Expectations suite, keep its report, publish it as a table artifact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from lstmflow.config import PipelineConfig


def _publish(key: str, gate: dict[str, Any]) -> None:
    from expectations.runner import gate_table

    create_table_artifact(key=key, table=gate_table(gate), description=f"Data-quality gate: {key}")


def _log(name: str, gate: dict[str, Any]) -> None:
    get_run_logger().info(
        f"gate '{name}': {gate['evaluated']} expectations, {len(gate['failed'])} failed, "
        f"{len(gate['warnings'])} warnings; report {gate.get('files', {}).get('data_docs')}"
    )


def _run_gate(name: str, run_dir: Path, validate: Callable[[Any], dict[str, Any]]):
    """Validate with a GE context whose Data Docs go to the run folder; keep and publish the
    report. A refused gate returns a Failed state carrying the report, so the UI shows this
    step failed (the flow reads the report with `return_state=True`)."""
    from expectations.report import run_gate

    gate = run_gate(name, run_dir, validate)
    _publish(f"gate-{name}", gate)
    _log(name, gate)
    if not gate["success"]:
        return Failed(message=f"gate '{name}': {len(gate['failed'])} of {gate['evaluated']} "
                      "expectations failed", data=gate)
    return gate


@task(name="gate-ingested", cache_policy=NO_CACHE)
def ingested_gate_task(frame: pd.DataFrame, cfg: PipelineConfig, report: dict[str, Any],
                       run_dir: Path):
    """Gate 1 on the canonical frame; its table and Data Docs go to the run folder."""
    from expectations.ingested import validate_ingested

    return _run_gate("ingested", run_dir, lambda ctx: validate_ingested(frame, cfg, report, ctx=ctx))


@task(name="gate-model-inputs", cache_policy=NO_CACHE)
def inputs_gate_task(frame: pd.DataFrame, inputs: list[str], cfg: PipelineConfig,
                     run_dir: Path, calendar: list[str] | None = None):
    """Gate 2 on the scaled model inputs; its table and Data Docs go to the run folder."""
    from expectations.model_inputs import validate_model_inputs

    return _run_gate("model-inputs", run_dir, lambda ctx: validate_model_inputs(
        frame, inputs, cfg, ctx=ctx, calendar=calendar))
