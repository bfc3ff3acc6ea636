"""predict_flow: verified champion > ingest > fits the champion? > gate > forecast > write."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed

from expectations.runner import gate_message
from flows.common import EXPECTED_ERRORS, GateFailed
from flows.hooks import notify_failure
from lstmflow.config import Override, PipelineConfig, config_from_parameters
from lstmflow.config.locations import check_local_file, check_location
from lstmflow.durable import write_json
from lstmflow.serve.predict import (
    FORECASTS,
    PREDICTION,
    keep_on_store,
    new_prediction_id,
    prediction_dir,
    prediction_record,
)
from tasks.ingest import ingest_task
from tasks.predict import champion_task, check_fit_task, forecast_task, write_forecasts_task
from tasks.validate import ingested_gate_task


@flow(name="lstmflow-predict", log_prints=True, validate_parameters=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def predict_flow(
    config: PipelineConfig, overrides: Sequence[Override] = (), out: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """Forecast the next horizon steps of every series with the champion, verified.

    Args:
        config: The pipeline config: its registry (output_dir, name) holds the champion, its
            data.path the latest data; the columns, grid and model come from the champion.
        overrides: Fields to change on top of `config`, as 'dotted.key=value' (e.g.
            data.path=new.parquet).
        out: Parquet file to write (default: <output_dir>/predictions/<name>/<id>/forecasts.parquet).
        event_id: The id of the event that triggered this run (a new champion promoted).
    """
    try:
        config = config_from_parameters(config, overrides)
        check_location("out", out)
        check_local_file("out", out)
        folder = prediction_dir(config.output_dir, config.name, new_prediction_id())
        champ = champion_task(config)
        data = ingest_task(champ.cfg)
        warnings = [*champ.notes, *check_fit_task(data, champ)]
        gate = None
        if champ.cfg.quality.enabled:  # the same ingested-data gate as training
            gate = ingested_gate_task(data.frame, champ.cfg, data.report, folder,
                                      return_state=True).result(raise_on_failure=False)
            if isinstance(gate, BaseException):
                raise gate
            if not gate["success"]:
                raise GateFailed(gate_message("ingested", gate))
        table, more = forecast_task(champ, data.frame, data.future)
        path = Path(out) if out else folder / FORECASTS
        record = prediction_record(champ, data, table, path, warnings + more, gate)
        write_forecasts_task(table, path, record)
    except EXPECTED_ERRORS as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))
    record.update(prediction_id=folder.name, folder=str(folder), trigger_event=event_id)
    write_json(folder / PREDICTION, record)
    keep_on_store(config, folder, record)
    return record
