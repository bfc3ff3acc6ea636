"""Model versions as folders (safetensors + JSON, no pickle) and an atomic champion pointer.

Layout under `<output_dir>/registry/<name>/`:
  versions/<version>/  model.safetensors, hparams.json, state.json, config.json, metrics.json, meta.json
  champion.json        {"version": ..., "path": ..., "reason": ...}, replaced atomically
  .lock                the registry lock (lstmflow.locks.registry_lock)

A version is written into a hidden temp folder, every file fsynced, and renamed into place in
one step (lstmflow.durable.publish): a reader sees no version or a complete one, never a part.
Versions are immutable. Writers hold the registry lock (see lstmflow.serve.register).
"""

from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

from lstmflow import crash
from lstmflow.durable import new_folder, publish, write_json

PACKAGES = ("torch", "pytorch-lightning", "pandas", "numpy", "scikit-learn", "prefect",
            "great_expectations", "pyarrow")


class RegistryError(RuntimeError):
    """The registry holds something unusable; the message names the path."""


def registry_dir(output_dir: str | Path, name: str) -> Path:
    return Path(output_dir) / "registry" / name


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            continue
    return out


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str), encoding="utf-8")


def save_version(
    root: Path, version: str, model, state: dict, config: dict, metrics: dict, meta: dict
) -> Path:
    """Write a model version to a temp folder, then rename it into place (all or nothing)."""
    from safetensors.torch import save_file

    final = version_dir(root, version)
    if final.exists():
        raise RegistryError(f"model version '{final}' already exists")
    tmp = new_folder(final.parent, version)
    try:
        weights = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(weights, str(tmp / "model.safetensors"))
        crash.point("write:version")  # a part of the files written
        _write_json(tmp / "hparams.json", dict(model.hparams))
        _write_json(tmp / "state.json", state)
        _write_json(tmp / "config.json", config)
        _write_json(tmp / "metrics.json", metrics)
        _write_json(tmp / "meta.json", {**meta, "versions": library_versions()})
        publish(tmp, final, "version")
    except FileExistsError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RegistryError(f"model version '{final}' already exists") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def load_version(path: Path):
    """Load (model, state, config, metrics) from a version folder; weights via safetensors only."""
    from safetensors.torch import load_file

    from models.lstm import LSTMForecaster

    try:
        hp = json.loads((path / "hparams.json").read_text(encoding="utf-8"))
        model = LSTMForecaster(**hp)
        model.load_state_dict(load_file(str(path / "model.safetensors")))
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    except Exception as exc:
        raise RegistryError(f"model version '{path}' cannot be loaded: {exc}") from None
    model.eval()
    return model, state, config, metrics


def champion(root: Path) -> dict[str, Any] | None:
    """The champion pointer, or None when nothing was promoted yet."""
    p = root / "champion.json"
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RegistryError(f"champion pointer '{p}' is not valid JSON: {exc}") from None


def set_champion(root: Path, version: str, reason: str) -> dict[str, Any]:
    """Point the champion at a complete version: temp file, fsync, os.replace (atomic).

    Call it under the registry lock, after deciding against the champion read under that lock.
    """
    if not version_dir(root, version).is_dir():
        raise RegistryError(f"cannot make '{version}' champion: '{version_dir(root, version)}' "
                            "does not exist")
    pointer = {"version": version, "path": str(version_dir(root, version)), "reason": reason}
    write_json(root / "champion.json", pointer, kind="champion.json")
    return pointer


def version_dir(root: Path, version: str) -> Path:
    """A version's folder, from the registry root (the pointer's `path` is informative only:
    it is relative to wherever the run that wrote it was started)."""
    return root / "versions" / version
