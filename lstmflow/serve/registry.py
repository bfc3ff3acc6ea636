"""Model versions as folders (safetensors + JSON, no pickle, a manifest) and the champion pointer.

Layout under `<output_dir>/registry/<name>/`:
  versions/<version>/  model.safetensors, hparams.json, state.json, manifest.json (immutable)
  champion.json        the version in service, swapped atomically (temp file + rename)
  history.jsonl        who did what when: registrations, promotions, rollbacks (serve/history.py)
  .lock                the registry lock (lstmflow.locks.registry_lock)

A version is written into a hidden temp folder, every file fsynced, and renamed into place in
one step (lstmflow.durable.publish): a reader sees no version or a complete one, never a part.
Its manifest (serve/manifest.py) records the SHA-256 and size of every file; `load_version`
checks them before anything is read, so a changed byte is refused by file name. Writers hold
the registry lock (serve/register.py, serve/actions.py).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lstmflow import crash
from lstmflow.durable import new_folder, publish, write_json
from lstmflow.records.manifest import Manifest
from lstmflow.serve.manifest import (
    MANIFEST,
    IntegrityError,
    RegistryError,
    as_manifest,
    seal,
    verify,
)
from lstmflow.store.location import local_dir

__all__ = ["IntegrityError", "RegistryError", "Version", "champion", "load_version",
           "registry_dir", "save_version", "set_champion", "version_dir", "version_names"]

WEIGHTS, HPARAMS, STATE = "model.safetensors", "hparams.json", "state.json"


@dataclass
class Version:
    """A verified version: the network (plain torch, eval mode), its fitted state, its manifest."""

    name: str
    path: Path
    model: Any  # models.net.LSTMNet
    state: dict[str, Any]
    manifest: dict[str, Any]  # manifest.json as read through its record (records.manifest)

    @property
    def config(self) -> dict[str, Any]:
        return self.manifest["config"]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.manifest["metrics"]


def registry_dir(output_dir: str | Path, name: str) -> Path:
    return local_dir(output_dir) / "registry" / name


def version_dir(root: Path, version: str) -> Path:
    """A version's folder, from the registry root (the pointer's `path` is informative only:
    it is relative to wherever the run that wrote it was started)."""
    if not version or "/" in version or version.startswith("."):
        raise RegistryError(f"'{version}' is not a version name")
    return Path(root) / "versions" / version


def version_names(root: Path) -> list[str]:
    """Published versions, oldest name first (run ids start with their UTC time stamp)."""
    folder = Path(root) / "versions"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str), encoding="utf-8")


def save_version(root: Path, version: str, model, state: dict,
                 record: Manifest | dict[str, Any]) -> Path:
    """Write a version (weights, hyperparameters, fitted state, then the manifest sealing them
    with `record`, register.version_record's or a dict of its keys) to a temp folder, then
    rename it into place: all or nothing."""
    from safetensors.torch import save_file

    final = version_dir(root, version)
    if final.exists():
        raise RegistryError(f"model version '{final}' already exists")
    tmp = new_folder(final.parent, version)
    try:
        weights = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(weights, str(tmp / WEIGHTS))
        crash.point("write:version")  # a part of the files written
        _write_json(tmp / HPARAMS, dict(model.hparams))
        _write_json(tmp / STATE, state)
        _write_json(tmp / MANIFEST, seal(as_manifest(record).update(version=version), tmp))
        publish(tmp, final, "version")
    except FileExistsError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RegistryError(f"model version '{final}' already exists") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def load_version(path: Path) -> Version:
    """Verify every file against the manifest (IntegrityError naming the file), then load the
    weights with safetensors into the plain-torch network; nothing is unpickled."""
    from safetensors.torch import load_file

    from models.net import LSTMNet

    path = Path(path)
    if not path.is_dir():
        raise RegistryError(f"model version '{path}' does not exist")
    manifest = verify(path)
    try:
        hp = json.loads((path / HPARAMS).read_text(encoding="utf-8"))
        model = LSTMNet(**hp)
        model.load_state_dict(load_file(str(path / WEIGHTS)))
        model.trained_with = hp  # the hyperparameters it was trained with (a warm start's rate)
        state = json.loads((path / STATE).read_text(encoding="utf-8"))
    except Exception as exc:  # verified files that still do not load: another lstmflow wrote them
        raise RegistryError(f"model version '{path}' cannot be loaded: {type(exc).__name__}: "
                            f"{exc}") from None
    return Version(path.name, path, model.eval(), state, manifest)


def champion(root: Path) -> dict[str, Any] | None:
    """The champion pointer, or None when nothing was promoted yet."""
    p = Path(root) / "champion.json"
    if not p.exists():
        return None
    try:
        pointer = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RegistryError(f"champion pointer '{p}' is not valid JSON: {exc}") from None
    if not isinstance(pointer, dict) or not isinstance(pointer.get("version"), str):
        raise RegistryError(f"champion pointer '{p}' names no version")
    return pointer


def set_champion(root: Path, version: str, event: dict[str, Any],
                 previous: list[str]) -> dict[str, Any]:
    """Point the champion at a verified version: temp file, fsync, os.replace (atomic).

    `event` is the history line of this change (serve/history.py: kept in the pointer too, so
    a change whose line a kill lost is still recorded later); `previous` the champions before
    it, newest last (what a rollback returns to). Call it under the registry lock.
    """
    path = version_dir(root, version)
    if not path.is_dir():
        raise RegistryError(f"cannot make '{version}' champion: '{path}' does not exist")
    manifest = verify(path)
    pointer = {"version": version, "path": str(path), "reason": event.get("reason"),
               "manifest_sha256": manifest["manifest_sha256"], "previous": previous,
               "event": event}
    write_json(Path(root) / "champion.json", pointer, kind="champion.json")
    return pointer
