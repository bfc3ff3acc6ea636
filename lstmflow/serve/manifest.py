"""A version's manifest: what it is (data, config, gates, metrics, diagnosis, seeds, libraries,
code) and the SHA-256 and size of every other file in its folder, checked on every load.

`manifest.json` also carries `manifest_sha256`: the SHA-256 of its own content in canonical form
(the manifest without that key, `json.dumps(sort_keys=True, separators=(",", ":"))`). So a byte
changed anywhere that matters (a hash, a metric, a config value) is refused by name, like a
changed weight; whitespace is the only thing that may differ. Integrity against accidents (a bad
disk, a half copy, a hand edit), not against an attacker who rewrites the manifest too.

Its keys are the fields of `lstmflow.records.manifest.Manifest`: a manifest is sealed from that
record and read back through it after its digest is checked (over the bytes as they were
written, so every manifest written before the record still verifies).
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from lstmflow.records.manifest import Manifest

MANIFEST = "manifest.json"
FORMAT = 1
PACKAGES = ("torch", "pytorch-lightning", "pandas", "numpy", "scikit-learn", "prefect",
            "great_expectations", "pyarrow", "safetensors")
# Config sections that do not change the model a run trains: where it runs and what happens
# to the model afterwards. Everything else is the "effective config" that skip_unchanged compares.
NOT_EFFECTIVE = ("runtime", "notify", "registry", "output_dir", "tracking", "monitor",
                 "storage_options")
# training keys that choose how a fit starts (from the champion or not), not the model asked for:
# a run that only turns warm starts on still has the same request as its champion
WARM_KEYS = ("warm_start", "warm_steps", "warm_tolerance", "warm_lr_scale")


class RegistryError(RuntimeError):
    """The registry holds something unusable, or an action on it is refused; the message names
    the path or the version."""


class IntegrityError(RegistryError):
    """A version's files are not what its manifest says; the message names the file."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def canonical_sha256(obj: Any) -> str:
    """SHA-256 of a JSON value in canonical form (sorted keys, no spaces)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def effective_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config without what does not change the trained model (NOT_EFFECTIVE, WARM_KEYS) or
    where the data is read from (data.path: the data's fingerprint says whether it is the same
    data)."""
    out = {k: v for k, v in config.items() if k not in NOT_EFFECTIVE}
    out["data"] = {k: v for k, v in (config.get("data") or {}).items() if k != "path"}
    if "training" in out:  # how a fit starts, not what it is asked to learn
        out["training"] = {k: v for k, v in out["training"].items() if k not in WARM_KEYS}
    return out


def config_digest(config: dict[str, Any]) -> str:
    """The digest of a config's effective part: what `effective_config_sha256` and
    `requested_config_sha256` hold, and what skip_unchanged and warm starts compare."""
    return canonical_sha256(effective_config(config))


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit(where: Path | None = None) -> str | None:
    """The commit of the checkout lstmflow runs from (with '+dirty' when files changed), or None
    when it is not a git checkout or git is absent."""
    where = where or Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def file_table(folder: Path) -> dict[str, dict[str, Any]]:
    """{name: {sha256, size}} of every file in `folder` but the manifest."""
    return {p.name: {"sha256": sha256_file(p), "size": p.stat().st_size}
            for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}


def as_manifest(record: Manifest | dict[str, Any]) -> Manifest:
    """A fresh Manifest from a record, or from the plain dict a caller built (as JSON: its
    non-JSON values become strings, as they do when written)."""
    if isinstance(record, Manifest):
        return Manifest.from_json(record.to_json())
    return Manifest.from_json(json.loads(json.dumps(record, default=str)))


def seal(record: Manifest | dict[str, Any], folder: Path) -> dict[str, Any]:
    """The manifest of `folder`: `record`, the table of its files and its own digest, as the
    JSON written (the digest covers exactly these keys and values, less its own)."""
    manifest = as_manifest(record).update(format=FORMAT, files=file_table(folder)).to_json()
    manifest["manifest_sha256"] = canonical_sha256(manifest)
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a version folder, checked against its own digest (not yet the files),
    then read through its record (lstmflow.records.manifest); returned as the file's JSON."""
    path = folder / MANIFEST
    if not path.is_file():
        raise IntegrityError(
            f"model version '{folder}' has no {MANIFEST}: it was written by an lstmflow older than "
            "the manifest (or copied in part), so its files cannot be verified and it is not "
            "loaded. Train a new version (the next run replaces it as champion when it beats the "
            "baselines), or remove the folder."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        digest = manifest.pop("manifest_sha256")
    except (ValueError, UnicodeDecodeError, KeyError, AttributeError, TypeError) as exc:
        raise IntegrityError(f"model version '{folder}': file '{MANIFEST}' is damaged (not a "
                             f"manifest: {type(exc).__name__}: {exc}); the version is refused") from None
    if canonical_sha256(manifest) != digest:
        raise IntegrityError(f"model version '{folder}': file '{MANIFEST}' was changed after it "
                             "was written (its content no longer matches its manifest_sha256); "
                             "the version is refused")
    manifest["manifest_sha256"] = digest
    try:
        return Manifest.from_json(manifest).to_json()
    except ValueError as exc:  # intact, but not a manifest this lstmflow can read
        raise IntegrityError(f"model version '{folder}': file '{MANIFEST}' is not a manifest "
                             f"this lstmflow reads ({exc}); the version is refused") from None


def verify(folder: Path) -> dict[str, Any]:
    """Check every file of a version folder against its manifest; returns the manifest.

    Raises IntegrityError naming the first file that is missing, extra, of another size or
    another SHA-256.
    """
    manifest = read_manifest(folder)
    files = manifest.get("files") or {}
    extra = sorted({p.name for p in folder.iterdir() if p.name != MANIFEST} - set(files))
    if extra:
        raise IntegrityError(f"model version '{folder}': file '{extra[0]}' is not in its "
                             "manifest (added after the version was written); the version is "
                             "refused")
    for name, want in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            raise IntegrityError(f"model version '{folder}': file '{name}' is missing; the "
                                 "version is refused")
        size = path.stat().st_size
        if size != want["size"]:
            raise IntegrityError(f"model version '{folder}': file '{name}' has {size} bytes, its "
                                 f"manifest says {want['size']}; the version is refused")
        if sha256_file(path) != want["sha256"]:
            raise IntegrityError(f"model version '{folder}': file '{name}' does not match the "
                                 "SHA-256 in its manifest (changed or damaged after it was "
                                 "written); the version is refused")
    return manifest


def data_record(report: dict[str, Any], series: Any) -> dict[str, Any]:
    """What the manifest keeps about the training data (the ingest report's source, grid and
    step, the series trained on and those left out as too short): what prediction checks new
    data against."""
    return {"source": report.get("source"), "freq": report.get("freq"),
            "step": report.get("step"), "series": sorted(str(s) for s in series),
            "left_out": {str(w["series_id"]): f"{w['rows']} rows < {w['needed']} needed"
                         for w in report.get("short_series_dropped") or []},
            "rows": report.get("rows")}
