"""The registry folder to read or write for an `output_dir`: the folder itself when it is
local; when it is a URL, the local mirror, pulled from the store first and (for a write)
pushed back after.

A write session runs under the registry's file lock (the processes of this machine share the
mirror); the lock that spans machines is taken around it by tasks/locks.registry_write, the
one way register, promote and rollback write. Nothing is pushed when the block raises: the
store keeps what it had.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lstmflow.locks import registry_lock
from lstmflow.serve.registry import registry_dir
from lstmflow.store.location import is_url

log = logging.getLogger("lstmflow.store")


@contextmanager
def shared_registry(output_dir: str, name: str, options: dict[str, Any] | None = None,
                    write: bool = False, sweep_age_s: float | None = None) -> Iterator[Path]:
    """Yield the registry folder to work in (see the module doc); `sweep_age_s`: remove dead
    uploads older than that (0 under a lock spanning machines; None: keep the default age)."""
    if not write or not is_url(output_dir):
        yield open_registry(output_dir, name, options)
        return
    from lstmflow.store.remote import SWEEP_AGE_S, RemoteRegistry

    root = registry_dir(output_dir, name)
    remote = RemoteRegistry(output_dir, name, options)
    with registry_lock(root):
        swept = remote.sweep(SWEEP_AGE_S if sweep_age_s is None else sweep_age_s)
        if swept:
            log.warning("registry store %s: removed %d upload(s) a killed writer left without "
                        "a manifest: %s", remote.url, len(swept), ", ".join(swept))
        seen = remote.pull(root)
        yield root
        remote.push(root, seen)


def open_registry(output_dir: str, name: str, options: dict[str, Any] | None = None,
                  only_champion: bool = False) -> Path:
    """The registry folder to read, pulled from the store first when `output_dir` is a URL
    (`only_champion`: only the champion's files are fetched, as predict needs)."""
    root = registry_dir(output_dir, name)
    if is_url(output_dir):
        from lstmflow.store.remote import RemoteRegistry

        with registry_lock(root):
            RemoteRegistry(output_dir, name, options).pull(root, only_champion)
    return root
