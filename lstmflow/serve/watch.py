"""Has the data changed? A cheap fingerprint of the data source (through fsspec: size and
modification time or etag; the content's SHA-256 for files up to WATCH_HASH_BYTES) compared
with the one the last watch kept (plain functions). `lstmflow.data.updated` is emitted from it
(flows/watch.py), so a retrain runs when the data changed, not only by the clock."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from lstmflow.durable import write_json
from lstmflow.store.location import local_dir

WATCH_HASH_BYTES = 64 * 2**20  # hash the content of files up to this size


def source_fingerprint(path: str) -> dict[str, Any]:
    """What identifies the file's current content: size, mtime or etag, and for small files
    the SHA-256 of the bytes (a rewrite with the same content is no change then)."""
    import fsspec

    fs, target = fsspec.core.url_to_fs(path)
    info = fs.info(target)
    out: dict[str, Any] = {"size": info.get("size")}
    for key in ("ETag", "etag", "md5", "mtime", "LastModified", "last_modified"):
        if info.get(key) is not None:
            out[key.lower()] = str(info[key])
    if out["size"] is not None and out["size"] <= WATCH_HASH_BYTES:
        digest = hashlib.sha256()
        with fs.open(target, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        out = {"size": out["size"], "sha256": digest.hexdigest()}
    return out


def watch_file(output_dir: str | Path, name: str) -> Path:
    return local_dir(output_dir) / "watch" / f"{name}.json"


def compare(output_dir: str | Path, name: str, path: str) -> tuple[bool, dict, dict | None]:
    """(changed, now, before): the source's fingerprint now and at the last watch, which is
    replaced by now's; the first watch records a baseline and is no change."""
    now = {"path": path, **source_fingerprint(path)}
    kept = watch_file(output_dir, name)
    before = json.loads(kept.read_text(encoding="utf-8")) if kept.is_file() else None
    if before != now:
        write_json(kept, now)
    return before is not None and before != now, now, before
