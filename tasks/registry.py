"""Registry tasks: save the model version and promote it if it earns it; skip a run that would
retrain the champion on the same data with the same config."""

from __future__ import annotations

from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.core import Fitted
from lstmflow.data.split import Bounds
from lstmflow.records.run import Promotion
from lstmflow.serve.actions import unchanged
from lstmflow.serve.register import register
from lstmflow.store.shared import open_registry
from tasks.locks import registry_write
from tasks.monitor import PROMOTED, emit, registry_resource


@task(name="register", cache_policy=NO_CACHE)
def register_task(
    fitted: Fitted, metrics: dict, meta: dict[str, Any], frame: pd.DataFrame,
    bounds: dict[str, Bounds], blocked: list[str] | None = None, resume: bool = False,
) -> Promotion:
    """Write the version folder; move the champion pointer only when `decide` says so and
    the diagnosis found no error (`blocked`: the ids of error-level findings)."""
    cfg = fitted.cfg
    with registry_write(cfg.output_dir, cfg.name, cfg.registry.lock,
                        cfg.storage_options) as (root, guard):
        out = register(root, fitted, metrics, meta, frame, bounds, resume, blocked)
    get_run_logger().info(f"model saved to {out.model_path} as {out.status}; "
                          f"{'promoted' if out.promoted else 'not promoted'}: {out.reason} "
                          f"(registry write under the {guard})")
    if out.promoted:  # the predict deployment's trigger: forecast with the new champion now
        emit(PROMOTED, registry_resource(cfg.name), {"version": meta["run_id"],
                                                      "reason": out.reason})
    return out


@task(name="unchanged", cache_policy=NO_CACHE)
def unchanged_task(cfg: PipelineConfig, fingerprint: str) -> str | None:
    """Why this run need not train (the champion has this data and effective config), or None."""
    reason = unchanged(open_registry(cfg.output_dir, cfg.name, cfg.storage_options),
                       cfg.model_dump(mode="json"), fingerprint)
    if reason:
        get_run_logger().info(reason)
    return reason
