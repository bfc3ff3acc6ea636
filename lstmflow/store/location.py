"""`output_dir` as a local path or an fsspec URL, and the local folder each one is worked in.

A plain path (or `file://` URL) is used as it is, exactly as before. A remote URL is worked in
through a local mirror, `<cache>/stores/<scheme>-<bucket>-<12 hex of the URL>/`, with
`<cache>` = $LSTMFLOW_CACHE_DIR or ~/.cache/lstmflow: every helper that builds a path from
`output_dir` (runs/, registry/, predictions/, ...) builds it there, and lstmflow.store.remote
copies the registry between that mirror and the URL (pulled before it is read, pushed after it
is written). The filesystem package of the scheme (s3fs for s3://) is an optional extra; its
credentials come from the standard environment variables, or `storage_options`.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lstmflow.config.locations import install_hint, is_url, shown

CACHE_ENV = "LSTMFLOW_CACHE_DIR"

__all__ = ["StoreError", "cache_root", "filesystem", "is_url", "local_dir", "mirror_name",
           "registry_shown"]


class StoreError(RuntimeError):
    """The remote store cannot be used (no filesystem package, unreachable, refused)."""


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lstmflow").expanduser()


def mirror_name(url: str) -> str:
    """`<scheme>-<bucket>-<12 hex>`: readable, and distinct for distinct URLs."""
    parts = urlsplit(url)
    bucket = re.sub(r"[^A-Za-z0-9_.-]", "_", parts.hostname or "") or "root"
    digest = hashlib.sha256(shown(url).rstrip("/").encode()).hexdigest()[:12]
    return f"{parts.scheme.lower()}-{bucket}-{digest}"


def local_dir(output_dir: str | Path) -> Path:
    """The local folder a run works in for `output_dir`: the path itself, or the URL's mirror."""
    s = str(output_dir)
    if s.lower().startswith("file://"):
        return Path(urlsplit(s).path)
    if not is_url(s):
        return Path(output_dir)
    return cache_root() / "stores" / mirror_name(s)


def filesystem(url: str, options: dict[str, Any] | None = None):
    """(fsspec filesystem, path inside it) for `url`; StoreError naming the extra to install
    when the scheme's package is missing. Listings are not cached: other machines write too."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(url, skip_instance_cache=True,
                                         use_listings_cache=False, **(options or {}))
    except ImportError:
        scheme = urlsplit(url).scheme.lower()
        hint = install_hint(scheme)
        raise StoreError(f"output_dir '{shown(url)}' needs the filesystem package of "
                         f"'{scheme}://', which is not installed: {hint}") from None
    return fs, path.rstrip("/")


def registry_shown(output_dir: str | Path, name: str) -> str:
    """A registry as messages name it: the store URL for a URL output_dir (not this machine's
    mirror), else its folder."""
    if is_url(output_dir):
        return f"{shown(str(output_dir)).rstrip('/')}/registry/{name}"
    return str(local_dir(output_dir) / "registry" / name)
