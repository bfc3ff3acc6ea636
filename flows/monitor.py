"""monitor_flow: the champion's data > ingest > gate > the served forecasts scored as their
actuals arrived > monitor.json, history, artifact > `lstmflow.champion.degraded` when degraded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed

from flows.common import EXPECTED_ERRORS, raw_gate
from flows.hooks import notify_failure
from lstmflow.config import Override, PipelineConfig, config_from_parameters
from lstmflow.serve.manifest import RegistryError
from lstmflow.serve.monitor import monitor_dir
from lstmflow.serve.predict import champion_for
from tasks.ingest import ingest_task
from tasks.monitor import monitor_task


@flow(name="lstmflow-monitor", log_prints=True, validate_parameters=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def monitor_flow(
    config: PipelineConfig, overrides: Sequence[Override] = (), event_id: str | None = None,
) -> dict[str, Any]:
    """Score every forecast `predict` served against the actuals that have arrived since; say
    whether the champion degraded (and emit `lstmflow.champion.degraded` when it did).

    Args:
        config: The pipeline config: its registry holds the champion and the predictions, its
            data.path the latest data (read with the champion's columns and grid).
        overrides: Fields to change on top of `config`, as 'dotted.key=value'.
        event_id: The id of the event that triggered this run (set by a deployment trigger).
    """
    try:
        cfg = config_from_parameters(config, overrides)
        try:
            data_cfg = champion_for(cfg).cfg  # read the data as the champion was trained on it
        except RegistryError:
            data_cfg = cfg
        data = ingest_task(data_cfg)
        raw_gate(data, data_cfg, monitor_dir(cfg.output_dir, cfg.name) / "gate")
        record = monitor_task(cfg, data.frame, data.report["fingerprint"])
    except EXPECTED_ERRORS as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))
    return {**record.to_json(), "trigger_event": event_id}
