"""watch_flow: fingerprint the data source; emit `lstmflow.data.updated` when it changed since the
last watch (the retrain and monitor deployments trigger on it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from lstmflow.config import ConfigError, Override, PipelineConfig, config_from_parameters
from lstmflow.serve.watch import compare
from tasks.monitor import UPDATED, emit


@task(name="fingerprint", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def fingerprint_task(cfg: PipelineConfig) -> tuple[bool, dict, dict | None]:
    """Whether the source changed since the last watch (the first one records a baseline)."""
    return compare(cfg.output_dir, cfg.name, cfg.data.path)


@flow(name="lstmflow-watch", log_prints=True, validate_parameters=False)
def watch_flow(config: PipelineConfig, overrides: Sequence[Override] = ()) -> dict[str, Any]:
    """Emit `lstmflow.data.updated` when the data source changed since the last watch.

    Args:
        config: The pipeline config: its data.path is watched, its name names the event's
            resource (`lstmflow.data.<name>`).
        overrides: Fields to change on top of `config`, as 'dotted.key=value'.
    """
    try:
        cfg = config_from_parameters(config, overrides)
    except ConfigError as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))
    changed, now, before = fingerprint_task(cfg)
    event = None
    if changed:
        event = emit(UPDATED, {"prefect.resource.id": f"lstmflow.data.{cfg.name}",
                               "prefect.resource.name": cfg.name},
                     {"path": cfg.data.path, "fingerprint": now, "before": before})
        get_run_logger().info(f"{cfg.data.path} changed: {UPDATED} emitted ({event})")
    else:
        get_run_logger().info(f"{cfg.data.path} unchanged" if before else
                              f"{cfg.data.path}: first watch, baseline recorded")
    return {"changed": changed, "event_id": event, "fingerprint": now}
