"""Named crash points: where a test may kill the process with SIGKILL (inert in production).

Every durable write calls `point("<stage>:<name>")` at the moments a crash matters: `write:X`
(temp file half written), `rename:X` (temp complete and fsynced, not yet renamed into place),
`saved:X` (renamed and the folder fsynced). The kill harness (tests/test_crash.py) sets

  LSTMFLOW_CRASH_AT=<point>[#<k>]   SIGKILL this process at the k-th hit of <point> (k = 1)
  LSTMFLOW_CRASH_LOG=<file>         append every point this process passes, one per line

in the environment of a real `lstmflow train` process. With neither variable set a point is one
dictionary lookup and does nothing: no test code path exists in production beyond that.
Like the crash hooks of storage engines (SQLite's, RocksDB's kill points), a point kills
deterministically at a named place, so each failure mode is reproduced on every run.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

AT, LOG = "LSTMFLOW_CRASH_AT", "LSTMFLOW_CRASH_LOG"
_hits: Counter[str] = Counter()


def armed() -> bool:
    """Whether crash points are in use in this process (writers then also pass `write:` points)."""
    return bool(os.environ.get(AT) or os.environ.get(LOG))


def point(name: str) -> None:
    """Record `name`; SIGKILL this process if LSTMFLOW_CRASH_AT names this hit of it."""
    target, log = os.environ.get(AT), os.environ.get(LOG)
    if not target and not log:
        return
    _hits[name] += 1
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{name}#{_hits[name]}\n")
    want, _, k = (target or "").partition("#")
    if want == name and _hits[name] == int(k or 1):
        os.kill(os.getpid(), signal.SIGKILL)
