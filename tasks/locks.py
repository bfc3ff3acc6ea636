"""Registry writes serialised across machines: with `registry.lock: prefect` (or `auto` and a
URL output_dir) and a Prefect API configured (a server, not the embedded one), registering,
promoting and rolling back also hold a Prefect global concurrency limit of one slot named after
the registry (its name and its store URL or absolute path), created on first use. The file
lock of lstmflow.locks stays inside it (it serialises the processes of one machine; the limit,
the workers of every machine that talk to that server). A URL registry with no API configured
is written under the file lock alone, which the returned guard says: other machines are not
excluded then.

A worker that dies holding the slot stops renewing its lease and the server's repossessor
service frees the slot after LEASE_S seconds (a server run without its services, such as
Prefect's test harness, never does: hence not the default for a local folder). Otherwise only
the file lock is used. `registry_write` is the one way a registry is written: the slot, then
(for a store URL) its mirror pulled under the file lock and pushed after.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from lstmflow.locks import REGISTRY_WAIT_S, LockBusy
from lstmflow.store.location import is_url, shown

LEASE_S = 60.0  # the shortest lease the server accepts: a dead holder frees the slot after it


def api_configured() -> bool:
    """Whether this process talks to a Prefect server (PREFECT_API_URL set)."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def limit_name(root: Path, url: str | None = None) -> str:
    """`lstmflow-registry-<name>-<10 hex of the store URL or the registry's absolute path>`:
    machines that share the store (or mount the registry at the same path) share the limit;
    another store is another registry (unrelated registries of one name never wait)."""
    root = Path(root).resolve()
    where = f"{shown(url).rstrip('/')}/registry/{root.name}" if url and is_url(url) else str(root)
    digest = hashlib.sha256(where.encode()).hexdigest()[:10]
    return f"lstmflow-registry-{root.name}-{digest}"


def spans_machines(guard: str) -> bool:
    """Whether the guard `registry_slot` yielded excludes the writers of other machines."""
    return guard.startswith("Prefect global concurrency limit")


def ensure_limit(name: str) -> None:
    """Create the one-slot limit unless it exists (two workers racing to create it is fine)."""
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1))


@contextmanager
def registry_slot(root: Path, lock: str = "file", url: str | None = None,
                  wait_s: float = REGISTRY_WAIT_S) -> Iterator[str]:
    """Hold the registry's global concurrency limit for the block when `lock` (the config's
    registry.lock) asks for it ('prefect', or 'auto' with a URL `url`, the output_dir) and an
    API is configured; yields which lock guards the write (for the log)."""
    shared = bool(url) and is_url(url)
    wanted = lock == "prefect" or (lock == "auto" and shared)
    if not wanted or not api_configured():
        yield ("file lock (this machine only: no Prefect API is configured, so writers on "
               "other machines are not excluded)") if shared else "file lock"
        return
    from prefect.concurrency.sync import concurrency

    name = limit_name(root, url)
    ensure_limit(name)
    held = False
    try:
        with concurrency(name, occupy=1, timeout_seconds=wait_s, lease_duration=LEASE_S,
                         strict=True):
            held = True
            yield f"Prefect global concurrency limit '{name}' and the file lock"
    except TimeoutError:
        if held:  # raised by the write itself, not by the wait
            raise
        raise LockBusy(
            f"registry '{root}': another worker has held the global concurrency limit "
            f"'{name}' for more than {wait_s:.0f} s, though a registry write takes seconds; a "
            f"dead holder frees it after {LEASE_S:.0f} s (prefect gcl inspect {name})"
        ) from None


@contextmanager
def registry_write(output_dir: str, name: str, lock: str,
                   options: dict[str, Any] | None = None) -> Iterator[tuple[Path, str]]:
    """Yield (the registry folder to write, which lock guards it) for register, promote and
    rollback: `registry_slot` around lstmflow.store.shared_registry, which sweeps dead uploads
    at once when the slot spans machines."""
    from lstmflow.serve.registry import registry_dir
    from lstmflow.store.shared import shared_registry

    with registry_slot(registry_dir(output_dir, name), lock, output_dir) as guard, \
            shared_registry(output_dir, name, options, write=True,
                            sweep_age_s=0 if spans_machines(guard) else None) as root:
        yield root, guard
