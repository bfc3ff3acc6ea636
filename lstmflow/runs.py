"""Run folders: their names, the files a run keeps, and resuming a killed run.

Light on purpose (no torch, no pandas): the CLI uses it before any heavy import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lstmflow.config import ConfigError, PipelineConfig, apply_overrides, build_config
from lstmflow.durable import write_json
from lstmflow.store.location import is_url, local_dir

RUN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
CHECKPOINT = "last.ckpt"
RUN_CONFIG = "config.json"  # the run's config, saved before its first checkpoint
SNAPSHOT = "data.parquet"  # the run's canonical data snapshot
HISTORY = "history.json"


class TrainingError(RuntimeError):
    """Training could not produce a usable model; the message says why and what to change."""


def run_folder(output_dir: str | Path, run_id: str) -> Path:
    """`<output_dir>/runs/<run_id>`, refusing a run id that is not one plain path component."""
    if not RUN_ID.match(run_id) or run_id in (".", ".."):
        raise ConfigError(
            f"run_id '{run_id}' must be one path component of letters, digits, '.', '_' and '-' "
            "(not '.' or '..')"
        )
    return local_dir(output_dir) / "runs" / run_id


def checkpoint_path(run_dir: Path) -> Path:
    """Where a run's resumable checkpoint lives: `<run_dir>/checkpoints/last.ckpt`."""
    return Path(run_dir) / "checkpoints" / CHECKPOINT


def save_run_config(cfg: PipelineConfig, run_dir: Path) -> Path:
    """Write the run's config as JSON into its folder, so `--resume` rebuilds the same run."""
    return write_json(Path(run_dir) / RUN_CONFIG, cfg.model_dump(mode="json"))


def resume_config(run_dir: Path, overrides: Sequence[str] = ()) -> PipelineConfig:
    """The killed run's own config, reading its data snapshot instead of the original source.

    The snapshot is canonical (target column named `target`), so config keys that name the
    target column by its original name are renamed with it. Raises TrainingError naming what is
    missing when the run cannot be resumed.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise TrainingError(f"cannot resume: run folder '{run_dir}' does not exist")
    for name, what in ((RUN_CONFIG, "saved config"), (SNAPSHOT, "data snapshot")):
        if not (run_dir / name).is_file():
            raise TrainingError(f"cannot resume: the run has no {what} '{run_dir / name}'")
    if not checkpoint_path(run_dir).is_file():
        raise TrainingError(
            f"cannot resume: no checkpoint at '{checkpoint_path(run_dir)}' (the run stopped "
            "before its first epoch ended); start a new run instead"
        )
    raw = json.loads((run_dir / RUN_CONFIG).read_text(encoding="utf-8"))
    old = raw["data"]
    raw["data"] = {  # the snapshot is already canonical: long layout, on the grid, filtered
        "path": str(run_dir / SNAPSHOT), "format": "parquet", "timestamp_column": "timestamp",
        "series_column": "series_id", "target_column": "target",
        "covariates": old.get("covariates", []), "freq": old.get("freq"),
        "short_series": old.get("short_series", "drop"),
    }
    _rename_target(raw.get("quality") or {}, old.get("target_column", "target"))
    output_dir = str(run_dir.parent.parent)  # the flow finds this same folder again
    if is_url(raw.get("output_dir") or "") and local_dir(raw["output_dir"]) == run_dir.parent.parent:
        output_dir = raw["output_dir"]  # a store's run, resumed in its mirror
    raw["output_dir"] = output_dir
    cfg = build_config(apply_overrides(raw, list(overrides)))
    if cfg.output_dir != output_dir:
        raise ConfigError("output_dir cannot change when resuming: the run lives in "
                          f"'{output_dir}'")
    return cfg


def as_written(cfg: PipelineConfig) -> dict[str, Any]:
    """The config as the run was started with it: a resumed run reads its own snapshot (see
    `resume_config`), but its model reads the columns of the data it was first given, and that
    is what a model version must record (prediction reads new data with it)."""
    raw = cfg.model_dump(mode="json")
    snapshot = Path(cfg.data.path)
    saved = snapshot.parent / RUN_CONFIG
    if snapshot.name == SNAPSHOT and snapshot.parent.parent.name == "runs" and saved.is_file():
        raw["data"] = json.loads(saved.read_text(encoding="utf-8"))["data"]
    return raw


def is_resume_config(cfg: PipelineConfig, run_dir: Path) -> bool:
    """Whether `cfg` already reads the run's own snapshot (as `resume_config` builds it)."""
    return Path(cfg.data.path) == Path(run_dir) / SNAPSHOT


def _rename_target(quality: dict[str, Any], old: str) -> None:
    """Quality keys that name the target by its file name now name the canonical `target`."""
    bounds = quality.get("bounds") or {}
    if old in bounds:
        bounds["target"] = bounds.pop(old)
    quality["jump_columns"] = ["target" if c == old else c for c in quality.get("jump_columns", [])]
