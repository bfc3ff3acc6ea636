"""Copy a finished run's or prediction's folder from the mirror to the store, under the same
path (`<url>/runs/<run_id>/`, `<url>/predictions/<name>/<id>/`), so the team reads reports and
forecasts where it reads the registry. Best-effort: the model is registered already; a copy
that fails is said, and the folder stays in this machine's mirror."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmflow.store.location import filesystem, is_url, local_dir, shown


def archive(output_dir: str, folder: Path, options: dict[str, Any] | None = None,
            extra: dict[str, Path] | None = None) -> str | None:
    """Upload every file of `folder` (under the mirror of `output_dir`) to the same relative key
    on the store, the newest files last (`extra`: files from elsewhere, uploaded into it under
    the given names first); returns the URL it went to (None: a local output_dir)."""
    if not is_url(output_dir):
        return None
    rel = Path(folder).resolve().relative_to(local_dir(output_dir).resolve())
    fs, base = filesystem(output_dir, options)
    files = sorted((p for p in Path(folder).rglob("*") if p.is_file() and not any(  # no temps
        part.startswith(".") for part in p.relative_to(folder).parts)),
        key=lambda p: p.stat().st_mtime)
    for name, p in (extra or {}).items():
        fs.put_file(str(p), f"{base}/{rel.as_posix()}/{name}")
    for p in files:
        fs.put_file(str(p), f"{base}/{rel.as_posix()}/{p.relative_to(folder).as_posix()}")
    return f"{shown(output_dir).rstrip('/')}/{rel.as_posix()}"


def archive_said(output_dir: str, folder: Path, options: dict[str, Any] | None = None,
                 extra: dict[str, Path] | None = None) -> str | None:
    """`archive`, saying what happened in one line instead of raising (None: local)."""
    try:
        url = archive(output_dir, folder, options, extra)
    except Exception as exc:  # what it copies is kept locally already: never worth a failure
        return (f"not copied to the store ({type(exc).__name__}: {exc}); kept in this "
                f"machine's mirror: {folder}")
    return url and f"copied to {url}"


def fetch_new(output_dir: str, rel: str, options: dict[str, Any] | None = None) -> int:
    """Download the files under `<url>/<rel>/` this machine's mirror lacks (folders written
    once, such as predictions/<name>/<id>/, by any machine); returns how many."""
    if not is_url(output_dir):
        return 0
    fs, base = filesystem(output_dir, options)
    root, prefix = local_dir(output_dir) / rel, f"{base}/{rel.strip('/')}"
    got = 0
    for key in sorted(fs.find(prefix)):
        target = root / key[len(prefix):].lstrip("/")
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.fetch.tmp")
        fs.get_file(key, str(tmp))
        tmp.replace(target)
        got += 1
    return got
