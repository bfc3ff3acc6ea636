"""Where a run may read and write, as the worker (not the run's parameters) allows it.

A deployment's form lets anyone who can open it point `data.path` or `output_dir` at any file
or bucket the worker can reach. With `LSTMFLOW_ALLOWED_ROOTS` set in the worker's environment
(or as a work-pool job variable), every location a run's config names must lie under one of
its roots (local folders or URL prefixes, comma-separated); a run that leaves them is refused
before it reads anything. Unset (a user's own machine), nothing is checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lstmflow.config.base import ConfigError

ALLOWED_ENV = "LSTMFLOW_ALLOWED_ROOTS"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
SECRET_KEY = re.compile(r"(secret|password|token|credential|_key$|^key$)", re.IGNORECASE)
FOLDER_LOGGERS = ("csv", "tensorboard")  # tracking.uri is a folder for these loggers


def allowed_roots() -> list[str] | None:
    """The worker's allowed roots (None: the variable is unset, everything is allowed)."""
    raw = os.environ.get(ALLOWED_ENV)
    if raw is None or not raw.strip():
        return None
    return [r.strip() for r in raw.split(",") if r.strip()]


def _url(value: str) -> tuple[str, str] | None:
    """(scheme, the rest without credentials) of a URL, or None for a local path (what `is_url`
    says: a Windows drive letter is a path, file:// is one too, and so is 's3:x' without '//',
    which is where such a value is read and written)."""
    if not is_url(value):
        return None
    parts = urlsplit(value)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return parts.scheme.lower(), urlunsplit(("", netloc, parts.path, "", "")).lstrip("/")


def _local(value: str) -> Path:
    """A local path as the filesystem resolves it (symlinks and '..' followed)."""
    if value.startswith("file://"):
        value = urlsplit(value).path
    return Path(value).expanduser().resolve()


def shown(value: str) -> str:
    """A location as an error may show it: a URL without user name, password or query."""
    url = _url(value)
    return f"{url[0]}://{url[1]}" if url else value


def within(value: str, root: str) -> bool:
    """Whether `value` lies at or under `root`, by path components (s3://b/team does not
    contain s3://b/team-other; /data does not contain /data2)."""
    v, r = _url(value), _url(root)
    if (v is None) != (r is None):
        return False
    if v is None:
        return _local(value).is_relative_to(_local(root))
    if v[0] != r[0]:
        return False
    vp, rp = v[1].rstrip("/").split("/"), r[1].rstrip("/").split("/")
    return vp[: len(rp)] == rp and ".." not in vp


def check_location(key: str, value: str | None, roots: list[str] | None = None) -> None:
    """Raise ConfigError naming the key and the allowed roots when `value` lies outside them."""
    roots = allowed_roots() if roots is None else roots
    if roots is None or value is None:
        return
    if not any(within(value, root) for root in roots):
        raise ConfigError(
            f"config key '{key}' ({shown(value)}) is outside the locations this worker allows "
            f"({', '.join(shown(r) for r in roots)}; set by {ALLOWED_ENV} on the worker): "
            "nothing was read or written")


def check_locations(cfg) -> None:
    """Every location a run's config names (data, outputs, a tracking folder) against the
    worker's allowed roots; a no-op when none are set."""
    roots = allowed_roots()
    if roots is None:
        return
    check_location("data.path", cfg.data.path, roots)
    check_location("output_dir", cfg.output_dir, roots)
    if cfg.tracking.logger in FOLDER_LOGGERS:
        check_location("tracking.uri", cfg.tracking.uri, roots)


# output_dir as a URL (lstmflow.store works in it): what the config checks when it is read
def is_url(output_dir: str | Path) -> bool:
    """Whether `output_dir` names a remote store (`file://` and plain paths are local)."""
    s = str(output_dir)
    return bool(_URL.match(s)) and not s.lower().startswith("file://")


def check_url(url: str) -> None:
    """ValueError unless fsspec knows the URL's scheme (a typo such as 's4://' is caught when
    the config is read, not after a training)."""
    import fsspec
    from fsspec.registry import known_implementations, registry

    scheme = urlsplit(url).scheme.lower()
    if scheme not in known_implementations and scheme not in registry:
        raise ValueError(f"'{shown(url)}': '{scheme}://' is not a storage scheme fsspec knows "
                         "(s3://, gs://, az://, file://, or a plain path)")
    try:
        fsspec.get_filesystem_class(scheme)
    except ImportError:
        raise ValueError(f"'{shown(url)}' needs the filesystem package of '{scheme}://', which "
                         f"is not installed here: {install_hint(scheme)}") from None


# what brings each scheme's filesystem: a pip extra of lstmflow (pyproject.toml), else fsspec's
# own package for it (only s3 is tested here)
EXTRAS = {"s3": "pip install 'lstmflow[s3]'", "s3a": "pip install 'lstmflow[s3]'",
          "gs": "pip install gcsfs", "gcs": "pip install gcsfs", "az": "pip install adlfs",
          "abfs": "pip install adlfs", "abfss": "pip install adlfs"}


def install_hint(scheme: str) -> str:
    return EXTRAS.get(scheme, "install fsspec's package for it")


def check_options(options: dict[str, Any]) -> None:
    """ValueError for a credential in `storage_options`: a flow's parameters are stored by the
    Prefect server and shown in its UI, so a secret there would be printed; the environment of
    the worker is where credentials go."""
    bad = sorted(k for k in options if SECRET_KEY.search(str(k)))
    if bad:
        raise ValueError(f"storage_options may not hold credentials ({', '.join(bad)}): a "
                         "config is shown in the Prefect UI and kept in run records. Set them "
                         "in the worker's environment instead (for S3: AWS_ACCESS_KEY_ID, "
                         "AWS_SECRET_ACCESS_KEY; the endpoint: AWS_ENDPOINT_URL)")


def check_local_file(key: str, value: str | None) -> None:
    """ConfigError for a URL where a local file is written (predict's `out`): it would become
    a local folder named 's3:' (use a URL output_dir: its predictions are copied to the store)."""
    if value and is_url(value):
        raise ConfigError(f"'{key}' ({shown(value)}) is a URL, and it names a local file: leave "
                          "it out to keep the forecasts in <output_dir>/predictions/, which a "
                          "URL output_dir copies to the store")
