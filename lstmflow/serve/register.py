"""Register a trained model: one transaction under the registry lock.

Under the lock: sweep what killed writers left, record a champion change whose history line a
kill lost, re-score the champion read now (its files verified), decide, write the version with
its manifest (temp folder renamed into place), swap the pointer if promoted (temp file renamed
into place), then append the history line. Two runs finishing at once therefore never decide
against a champion that is being replaced, and a run killed at any moment leaves the previous
champion serving (or the new one, complete). A resumed run whose version was already written
before the kill keeps it: versions are immutable, and resuming a finished fit reproduces the
same model (lstmflow.fit.checkpoint).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.core import Fitted, Forecaster
from lstmflow.data.split import Bounds
from lstmflow.durable import sweep
from lstmflow.locks import registry_lock
from lstmflow.records.manifest import DecisionRecord, Manifest
from lstmflow.records.run import Promotion
from lstmflow.runs import as_written
from lstmflow.serve.history import append, event, reconcile
from lstmflow.serve.manifest import config_digest, git_commit, library_versions
from lstmflow.serve.promote import Decision, decide, score_champion
from lstmflow.serve.registry import champion, load_version, set_champion, version_dir


def register(
    root: Path, fitted: Fitted, metrics: dict, meta: dict[str, Any], frame: pd.DataFrame,
    bounds: dict[str, Bounds], resume: bool = False, blocked: list[str] | None = None,
) -> Promotion:
    """Save `fitted` (its network, its fitted state with the blend, its config) as version
    `meta['run_id']` and promote it if `decide` says so (`blocked`: ids of error-level findings;
    `meta['gates']`: gate name -> passed); returns what happened."""
    cfg, version = fitted.cfg, meta["run_id"]
    path = version_dir(root, version)
    with registry_lock(root):
        swept = sweep(root) + sweep(path.parent)
        pointer = champion(root)
        reconcile(root, pointer)
        if resume and path.is_dir() and pointer and pointer.get("version") == version:
            load_version(path)  # complete and verified, or an error naming the file
            kept = Decision(True, "champion", f"{pointer.get('reason')} (promoted before the "
                            "run was interrupted; kept)")
            return _result(path, kept, None, swept)
        champ = score_champion(root, frame, bounds, cfg)
        decision = decide(cfg.registry.promote, metrics, champ, cfg.registry.min_improvement,
                          meta.get("gates"), blocked)
        if resume and path.is_dir():
            load_version(path)  # written before the kill: immutable, kept as it is
        else:
            Forecaster.save(fitted, root, version,
                            version_record(cfg, metrics, meta, decision, champ))
        old = pointer["version"] if pointer else None
        line = event("register", version, decision.reason, status=decision.status,
                     run_id=version, champion_before=old)
        if decision.promoted:
            line["from"] = old
            set_champion(root, version, line, [*pointer.get("previous", []), old] if pointer else [])
        append(root, line)
    return _result(path, decision, champ, swept)


def version_record(cfg: PipelineConfig, metrics: dict[str, Any], meta: dict[str, Any],
                   decision: Decision, champ: dict[str, Any] | None) -> Manifest:
    """What the manifest says about a version besides its files."""
    config = as_written(cfg)  # a resumed run: the data section it was first given
    return Manifest(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        run_id=meta["run_id"], flow_run_id=meta.get("flow_run_id"),
        trained_at=meta.get("trained_at"),
        data={"fingerprint": meta.get("data_fingerprint"), **(meta.get("data") or {})},
        inputs=meta.get("inputs"),
        config=config, effective_config_sha256=config_digest(config),
        # the config the run was asked to train (before auto-repair changed it): the next run
        # with the same data and this config has nothing new to learn (registry.skip_unchanged)
        requested_config_sha256=config_digest(
            as_written(meta["asked"]) if meta.get("asked") is not None else config),
        gates=meta.get("gates"), metrics=metrics, diagnosis=meta.get("diagnosis"),
        seeds={"training.seed": cfg.training.seed,
               "training.deterministic": cfg.training.deterministic},
        libraries=library_versions(), git_commit=git_commit(),
        decision=DecisionRecord(
            promoted=decision.promoted, status=decision.status, reason=decision.reason,
            policy=cfg.registry.promote, min_improvement=cfg.registry.min_improvement,
            champion_before=champ and champ.get("version")),
    )


def _result(path: Path, decision: Decision, champ: dict | None,
            swept: list[str]) -> Promotion:
    out = Promotion(model_path=str(path), promoted=decision.promoted, status=decision.status,
                    reason=decision.reason,
                    champion_before=champ and {k: v for k, v in champ.items() if k != "metrics"})
    if swept:
        out.swept = swept  # temp folders of writers killed earlier, removed
    return out
