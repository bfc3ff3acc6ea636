"""Gate tasks: run a Great Expectations suite and publish its result as a table artifact."""

from __future__ import annotations

from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig


def _publish(key: str, gate: dict[str, Any]) -> None:
    rows = [
        {k: r[k] for k in ("suite", "column", "rule", "severity", "success", "unexpected_count")}
        | {"examples": ", ".join(map(str, r["examples"][:3])), "error": r["error"] or ""}
        for r in gate["results"]
    ]
    create_table_artifact(key=key, table=rows, description=f"Data-quality gate: {key}")


@task(name="gate-ingested", cache_policy=NO_CACHE)
def ingested_gate_task(frame: pd.DataFrame, cfg: PipelineConfig) -> dict[str, Any]:
    """Gate 1 on the canonical frame."""
    from expectations.ingested import validate_ingested

    gate = validate_ingested(frame, cfg)
    _publish("gate-ingested", gate)
    get_run_logger().info(
        f"gate 'ingested': {gate['evaluated']} expectations, {len(gate['failed'])} failed, "
        f"{len(gate['warnings'])} warnings"
    )
    return gate


@task(name="gate-model-inputs", cache_policy=NO_CACHE)
def inputs_gate_task(frame: pd.DataFrame, inputs: list[str], cfg: PipelineConfig) -> dict[str, Any]:
    """Gate 2 on the scaled model inputs."""
    from expectations.model_inputs import validate_model_inputs

    gate = validate_model_inputs(frame, inputs, cfg)
    _publish("gate-model-inputs", gate)
    get_run_logger().info(
        f"gate 'model-inputs': {gate['evaluated']} expectations, {len(gate['failed'])} failed"
    )
    return gate
