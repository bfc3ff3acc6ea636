"""File locks (the `filelock` package: flock on POSIX): one per live run, one per registry.

A lock is held by an open file descriptor, so the kernel releases it when its process dies,
SIGKILL included: a killed run never leaves a stale lock behind, and a live one is never
mistaken for a dead one. The holder writes "pid@host" into the lock file for messages.

- Run lock `<output_dir>/runs/.locks/<run_id>.lock`: held while a run lives, from the first step
  that keeps something (a run refused at ingestion writes nothing, not even a lock); a
  `--resume` of a run whose lock is held is refused.
- Registry lock `<registry>/.lock`: serialises every registry write (a version, the champion
  pointer) and the decision that leads to it, so concurrent runs leave one consistent champion.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from lstmflow.store.location import local_dir

REGISTRY_WAIT_S = 600.0  # a registry write takes seconds; waiting longer means something is stuck
_held = threading.local()  # registry locks this thread holds: taking one again is a no-op


class LockBusy(RuntimeError):
    """Another live process holds the lock; the message names it and the holder."""


def _stamp(fd: int) -> None:
    """Write 'pid@host' into the lock file once it is ours (for the refusal message)."""
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}@{socket.gethostname()}".encode(), 0)


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def _lock(path: Path) -> FileLock:
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path, thread_local=False, on_acquired=_stamp)


def run_lock_path(output_dir: str | Path, run_id: str) -> Path:
    return local_dir(output_dir) / "runs" / ".locks" / f"{run_id}.lock"


class RunLock:
    """The lock of one run, taken with `acquire()` and let go when the `with` block ends."""

    def __init__(self, output_dir: str | Path, run_id: str) -> None:
        self.run_id, self.path = run_id, run_lock_path(output_dir, run_id)
        self._lock: FileLock | None = None

    def acquire(self) -> None:
        """Take the lock now, or raise LockBusy when a live process holds it."""
        if self._lock is not None:
            return
        lock = _lock(self.path)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise LockBusy(
                f"run '{self.run_id}' is still running (process {_holder(self.path)} holds "
                f"'{self.path}'); wait for it to end before resuming it"
            ) from None
        self._lock = lock

    @property
    def held(self) -> bool:
        return self._lock is not None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def check_not_running(output_dir: str | Path, run_id: str) -> None:
    """Raise LockBusy when run `run_id` is alive now (its lock is held)."""
    with RunLock(output_dir, run_id) as lock:
        if lock.path.exists():
            lock.acquire()


@contextmanager
def registry_lock(root: Path, wait_s: float = REGISTRY_WAIT_S) -> Iterator[Path]:
    """Hold the registry's lock for the `with` block, waiting up to `wait_s` for another run.

    Re-entrant in one thread: a registry transaction on a shared store (lstmflow.store.shared)
    holds it around the pull, the write and the push, and the write takes it again inside."""
    path = Path(root) / ".lock"
    held = _held.__dict__.setdefault("paths", set())
    key = str(path.resolve())
    if key in held:
        yield path
        return
    lock = _lock(path)
    try:
        lock.acquire(timeout=wait_s)
    except Timeout:
        raise LockBusy(
            f"registry '{root}' is locked by process {_holder(path)} ('{path}') for more than "
            f"{wait_s:.0f} s, though a registry write takes seconds: is that process stuck?"
        ) from None
    held.add(key)
    try:
        yield path
    finally:
        held.discard(key)
        lock.release()
