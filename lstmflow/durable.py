"""Crash-safe writes: a file or folder is either absent, the old one, or the new one, complete.

Files: written to a hidden temp file beside the target, fsynced, `os.replace`d into place, and
the folder fsynced (the rename itself survives a power cut). Folders: filled under a hidden temp
name, every file fsynced, then renamed into place in one step. Temp names start with '.', so a
reader listing a folder never takes a half-written one for real; `sweep` removes the leftovers of
a killed writer where no live writer can be (under the lock that guards the folder).

Each write passes the crash points of lstmflow.crash (`write:`, `rename:`, `saved:` + the file
or folder kind), where the kill harness stops a real run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from lstmflow import crash


def fsync_dir(folder: Path) -> None:
    """Make the entries of `folder` (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _HalfThenCrash:
    """A file wrapper for an armed crash point: the first write is cut in half, then `write:` fires."""

    def __init__(self, f: IO[bytes], name: str) -> None:
        self._f, self._name, self._fired = f, name, False

    def write(self, data) -> int:
        if not self._fired:
            self._fired = True
            view = memoryview(data).cast("B")
            self._f.write(view[: max(1, len(view) // 2)])
            self._f.flush()
            crash.point(f"write:{self._name}")
            self._f.write(view[max(1, len(view) // 2):])
            return len(view)
        return self._f.write(data)

    def __getattr__(self, attr: str) -> Any:  # seek, tell, flush, ... of the real file
        return getattr(self._f, attr)


def _temp(parent: Path, name: str) -> Path:
    """A unique hidden temp name beside `name` (unique: concurrent writers never share one)."""
    return parent / f".{name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"


def write_atomic(path: Path, write: Callable[[IO[bytes]], Any], kind: str | None = None) -> Path:
    """Stream `write(file)` into a temp file beside `path`, then rename it into place (durably)."""
    path = Path(path)
    kind = kind or path.name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp(path.parent, path.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies, as for open()
    try:
        with os.fdopen(fd, "wb") as f:
            write(_HalfThenCrash(f, kind) if crash.armed() else f)
            f.flush()
            os.fsync(f.fileno())
        crash.point(f"rename:{kind}")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    crash.point(f"saved:{kind}")
    return path


def write_text(path: Path, text: str, kind: str | None = None) -> Path:
    """Text (UTF-8) written atomically and durably."""
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")), kind)


def write_json(path: Path, obj: Any, kind: str | None = None) -> Path:
    """JSON (indented, non-JSON values as strings) written atomically and durably."""
    return write_text(path, json.dumps(obj, indent=2, default=str), kind)


def new_folder(parent: Path, name: str) -> Path:
    """A hidden temp folder in `parent` to fill and then `publish` as `name`."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp(parent, name)
    tmp.mkdir()
    return tmp


def publish(tmp: Path, final: Path, kind: str) -> Path:
    """fsync every file of the filled temp folder, then rename it to `final` in one step.

    Refuses (FileExistsError) when `final` exists: a published folder is never replaced.
    """
    for p in tmp.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    fsync_dir(tmp)
    crash.point(f"rename:{kind}")
    if final.exists():
        raise FileExistsError(final)
    os.rename(tmp, final)  # a folder that appeared meanwhile makes this fail (not empty)
    fsync_dir(final.parent)
    crash.point(f"saved:{kind}")
    return final


def sweep(folder: Path) -> list[str]:
    """Remove the temp files and folders killed writers left in `folder`; returns their names.

    Call it only where no live writer can be writing in `folder` (under its lock).
    """
    gone = []
    if not folder.is_dir():
        return gone
    for p in folder.iterdir():
        if p.name.startswith(".") and p.name.endswith(".tmp"):
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
            gone.append(p.name)
    return gone
