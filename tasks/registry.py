"""Registry task: save the model version, then promote it if it earns it."""

from __future__ import annotations

from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.data.split import Bounds
from lstmflow.serve.promote import decide, score_champion
from lstmflow.serve.registry import registry_dir, save_version, set_champion


@task(name="register", cache_policy=NO_CACHE)
def register_task(
    model, state: dict, cfg: PipelineConfig, metrics: dict, meta: dict[str, Any],
    frame: pd.DataFrame, bounds: dict[str, Bounds], blocked: list[str] | None = None,
) -> dict[str, Any]:
    """Write the version folder; move the champion pointer only when `decide` says so and
    the diagnosis found no error (`blocked`: the ids of error-level findings)."""
    log = get_run_logger()
    root = registry_dir(cfg.output_dir, cfg.name)
    champ = score_champion(root, frame, bounds, cfg)
    promote, reason = decide(cfg.registry.promote, metrics, champ)
    if blocked:
        promote, reason = False, f"the diagnosis found errors ({', '.join(blocked)}); {reason}"
    path = save_version(root, meta["run_id"], model, state, cfg.model_dump(mode="json"),
                        metrics, meta)
    if promote:
        set_champion(root, meta["run_id"], reason)
    log.info(f"model saved to {path}; {'promoted' if promote else 'not promoted'}: {reason}")
    return {"model_path": str(path), "promoted": promote, "reason": reason,
            "champion_before": champ and {k: v for k, v in champ.items() if k != "metrics"}}
