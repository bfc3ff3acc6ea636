"""Monitoring and event tasks: score the served forecasts (lstmflow.serve.monitor), publish the
table, and emit the events the deployments' triggers listen to."""

from __future__ import annotations

from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.records.monitor import MonitorRecord
from lstmflow.serve.monitor import check, keep

DEGRADED, PROMOTED, UPDATED = ("lstmflow.champion.degraded", "lstmflow.champion.promoted",
                               "lstmflow.data.updated")


def registry_resource(name: str) -> dict[str, str]:
    return {"prefect.resource.id": f"lstmflow.registry.{name}", "prefect.resource.name": name}


def emit(event: str, resource: dict[str, str], payload: dict[str, Any]) -> str | None:
    """Emit a Prefect event (the run's flow run and deployment are related automatically);
    its id, or None when it could not be sent (said in the log)."""
    from prefect.events import emit_event

    try:
        sent = emit_event(event=event, resource=resource, payload=payload)
    except Exception as exc:  # an event is how others learn of it, never why this run fails
        get_run_logger().warning(f"event {event} not sent: {type(exc).__name__}: {exc}")
        return None
    return str(sent.id) if sent is not None else None


@task(name="monitor", cache_policy=NO_CACHE)
def monitor_task(cfg: PipelineConfig, frame: pd.DataFrame, fingerprint: str) -> MonitorRecord:
    """Score every served forecast with the actuals now in the data; keep monitor.json and the
    history; emit lstmflow.champion.degraded when the champion is."""
    log = get_run_logger()
    record = check(cfg, frame, fingerprint)
    if record.degraded:
        log.warning(f"champion {record.champion} is degraded: {record.degraded_reason}")
        record.event = emit(DEGRADED, registry_resource(cfg.name), {
            "champion": record.champion, "reason": record.degraded_reason,
            "live": (record.live.get("overall") or {}).get("model"),
            "at_promotion": record.at_promotion})
    path = keep(record, cfg.output_dir)
    create_markdown_artifact(key="monitor", markdown=markdown(record),
                             description=f"served forecasts of {cfg.name}, scored")
    log.info(f"monitor: {path}")
    return record


def markdown(record: MonitorRecord) -> str:
    """The champion's live error beside its promotion-time error, and every served version."""
    overall = (record.live.get("overall") or {}).get("model") or {}
    lines = [f"# Monitor {record.name}: champion {record.champion}",
             "", f"{record.points} served points scored from {record.predictions_read} "
             "predictions.", "",
             "| figure | live | at promotion |", "|---|---:|---:|",
             f"| MAE over naive's | {_num(overall.get('rel_mae'))} | "
             f"{_num(record.at_promotion.get('rel_mae'))} |",
             f"| MAE over seasonal naive's | {_num(overall.get('rel_mae_vs_seasonal_naive'))} | "
             f"{_num(record.at_promotion.get('rel_mae_vs_seasonal_naive'))} |", ""]
    lines += [f"**Degraded**: {record.degraded_reason}" if record.degraded else "Not degraded.",
              "", "| version | predictions | points | MAE over naive's |", "|---|---:|---:|---:|"]
    lines += [f"| {v} | {r.predictions} | {r.points} | {_num(r.rel_mae)} |"
              for v, r in record.versions.items()]
    return "\n".join(lines)


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.4g}"
