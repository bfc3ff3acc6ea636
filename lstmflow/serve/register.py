"""Register a trained model: one transaction under the registry lock.

Under the lock: sweep what killed writers left, re-score the champion read now, decide, write
the version (temp folder renamed into place), then swap the pointer (temp file renamed into
place). Two runs finishing at once therefore never decide against a champion that is being
replaced, and a run killed at any moment leaves the previous champion serving (or the new one,
complete). A resumed run whose version was already written before the kill keeps it: versions
are immutable, and resuming a finished fit reproduces the same model (lstmflow.fit.checkpoint).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.data.split import Bounds
from lstmflow.durable import sweep
from lstmflow.locks import registry_lock
from lstmflow.serve.promote import decide, score_champion
from lstmflow.serve.registry import champion, load_version, save_version, set_champion, version_dir


def register(
    root: Path, model, state: dict, cfg: PipelineConfig, metrics: dict, meta: dict[str, Any],
    frame: pd.DataFrame, bounds: dict[str, Bounds], resume: bool = False,
    blocked: list[str] | None = None,
) -> dict[str, Any]:
    """Save version `meta['run_id']` and promote it if `decide` says so and the diagnosis found
    no error (`blocked`: ids of error-level findings); returns what happened."""
    version = meta["run_id"]
    path = version_dir(root, version)
    with registry_lock(root):
        swept = sweep(root) + sweep(path.parent)
        pointer = champion(root)
        if resume and path.is_dir() and pointer and pointer.get("version") == version:
            load_version(path)  # complete and loadable, or RegistryError naming it
            return _result(path, True, f"{pointer.get('reason')} (promoted before the run was "
                           "interrupted; kept)", None, swept)
        champ = score_champion(root, frame, bounds, cfg)
        promote, reason = decide(cfg.registry.promote, metrics, champ)
        if blocked:
            promote, reason = False, f"the diagnosis found errors ({', '.join(blocked)}); {reason}"
        if resume and path.is_dir():
            load_version(path)  # written before the kill: immutable, kept as it is
        else:
            save_version(root, version, model, state, cfg.model_dump(mode="json"), metrics, meta)
        if promote:
            set_champion(root, version, reason)
    return _result(path, promote, reason, champ, swept)


def _result(path: Path, promoted: bool, reason: str, champ: dict | None,
            swept: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model_path": str(path), "promoted": promoted, "reason": reason,
        "champion_before": champ and {k: v for k, v in champ.items() if k != "metrics"},
    }
    if swept:
        out["swept"] = swept  # temp folders of writers killed earlier, removed
    return out
