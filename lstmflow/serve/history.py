"""The registry's history: one JSON line per event (a version registered, promoted, rolled back),
who did it and when.

Rules (the hashed version folders stay immutable, so the history lives beside them in
`<registry>/history.jsonl`):
- Append-only: a writer reads the file, adds its lines after the old ones and replaces the file
  atomically (temp file, fsync, rename: lstmflow.durable), under the registry lock. Old lines are
  never changed or removed, and a reader never sees a half-written line.
- The champion pointer carries the event that last moved it. The pointer is swapped first, then
  the line is appended; a process killed between the two leaves the line missing, and the next
  writer (under the lock) appends it, marked `"recovered": true` (`reconcile`).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lstmflow.durable import write_text
from lstmflow.serve.manifest import RegistryError

HISTORY = "history.jsonl"


def who() -> str:
    """user@host of this process (the user name from the environment or the password database)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def event(action: str, version: str, reason: str, **extra: Any) -> dict[str, Any]:
    """A new history line: id, UTC time, who, what, on which version, why."""
    return {"id": uuid.uuid4().hex[:12], "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "by": who(), "action": action, "version": version, "reason": reason, **extra}


def read_history(root: Path) -> list[dict[str, Any]]:
    """Every event, oldest first; RegistryError naming the line when one is not JSON."""
    path = Path(root) / HISTORY
    if not path.is_file():
        return []
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise RegistryError(f"registry history '{path}', line {i}: not JSON ({exc})") from None
    return out


def append(root: Path, *events: dict[str, Any]) -> None:
    """Add `events` after the existing lines (call it under the registry lock)."""
    path = Path(root) / HISTORY
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    lines = "".join(json.dumps(e, sort_keys=True, default=str) + "\n" for e in events)
    write_text(path, old + lines, kind=HISTORY)


def reconcile(root: Path, pointer: dict[str, Any] | None) -> dict[str, Any] | None:
    """Append the event that last moved the champion when a kill lost its line; returns it."""
    last = (pointer or {}).get("event")
    if not last or any(e.get("id") == last.get("id") for e in read_history(root)):
        return None
    recovered = {**last, "recovered": True}
    append(root, recovered)
    return recovered


def events_of(history: list[dict[str, Any]], version: str) -> list[dict[str, Any]]:
    """The events about one version (its registration, promotions, rollbacks to or from it)."""
    return [e for e in history if version in (e.get("version"), e.get("from"))]
