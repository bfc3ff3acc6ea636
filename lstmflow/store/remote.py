"""A registry on an object store, copied to and from the local mirror the registry code uses.

Remote layout under `<url>/registry/<name>/` (object stores have no rename, so no temp names):
  versions/<version>/<file>   every file of the version first, `manifest.json` LAST: the
                              manifest is the commit marker; a version without one is invisible
                              (`committed`) and swept later (`sweep`)
  champion.json               one small object, replaced whole (a PUT is atomic)
  history/<n>-<event id>.json one object per history line, never rewritten (append-only)

`pull` makes the mirror equal the store: committed versions it lacks are downloaded into a temp
folder, verified against their manifest (SHA-256 of every file) and published (a version is
immutable: once mirrored and verified it is not fetched again); versions the store lacks (a
push a kill cut short) are dropped; champion.json and history.jsonl are rewritten.
`push` uploads what a registry transaction added locally, in the order that keeps every reader
consistent: new versions (manifest last), then the pointer, then the history lines.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lstmflow import crash
from lstmflow.durable import new_folder, publish, write_text
from lstmflow.serve.history import HISTORY
from lstmflow.serve.manifest import MANIFEST, IntegrityError, verify
from lstmflow.serve.registry import version_dir, version_names
from lstmflow.store.location import StoreError, filesystem, shown

CHAMPION = "champion.json"
HISTORY_CACHE = ".history.json"  # the mirror's history lines by store key
log = logging.getLogger("lstmflow.store")
SWEEP_AGE_S = 3600.0  # without a lock that spans machines, an upload this old is a dead one's


@dataclass
class Snapshot:
    """What the store held when it was pulled (what a push compares the mirror with)."""

    versions: set[str] = field(default_factory=set)
    champion: bytes | None = None
    history: int = 0  # lines


class RemoteRegistry:
    """The registry `<url>/registry/<name>` on the fsspec filesystem of `url`."""

    def __init__(self, url: str, name: str, options: dict[str, Any] | None = None) -> None:
        self.url, self.name = shown(url), name  # as messages show it: no user, password, query
        self.fs, base = filesystem(url, options)
        self.base = f"{base}/registry/{name}"

    def key(self, *parts: str) -> str:
        return "/".join((self.base, *parts))

    def _call(self, what: str, fn, *args, **kwargs):
        """Run one store call; errors other than a missing key become a StoreError naming it."""
        try:
            return fn(*args, **kwargs)
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise StoreError(f"registry store '{self.url}/registry/{self.name}': {what} failed: "
                             f"{type(exc).__name__}: {exc}") from None

    def committed(self) -> set[str]:
        """Every version whose manifest was written (one listing)."""
        keys = self._call("listing versions", self.fs.glob, self.key("versions", "*", MANIFEST))
        names = {k.rstrip("/").split("/")[-2] for k in keys}
        return {n for n in names if not n.startswith(".")}  # no version is named so

    def read_champion(self) -> bytes | None:
        try:
            return self._call("reading champion.json", self.fs.cat_file, self.key(CHAMPION))
        except FileNotFoundError:
            return None

    def pull(self, root: Path, only_champion: bool = False) -> Snapshot:
        """Make the mirror `root` hold what the store holds (`only_champion`: the pointer and
        the champion's files alone, for predict); returns what was seen."""
        root.mkdir(parents=True, exist_ok=True)
        pointer = self.read_champion()  # read first: its version was committed before it
        if only_champion:
            name = json.loads(pointer).get("version") if pointer else None
            if name:
                self._fetch(root, name)
            self._write_pointer(root, pointer)
            return Snapshot(set(version_names(root)), pointer, 0)
        versions = self.committed()
        for version in sorted(versions):
            try:
                self._fetch(root, version)
            except IntegrityError as exc:  # one damaged version must not stop every pull:
                # left out, it is what a local registry's damaged version is (refused by name
                # when loaded: predict, re-scoring the champion, promote)
                log.warning("%s; it is left out of this machine's mirror", exc)
        for stale in set(version_names(root)) - versions:  # a push a kill cut short
            shutil.rmtree(version_dir(root, stale), ignore_errors=True)
        self._write_pointer(root, pointer)
        lines = self._pull_history(root)
        return Snapshot(versions, pointer, len(lines))

    def _write_pointer(self, root: Path, pointer: bytes | None) -> None:
        if pointer is None:
            (root / CHAMPION).unlink(missing_ok=True)
        else:
            write_text(root / CHAMPION, pointer.decode("utf-8"), kind="mirror")

    def _pull_history(self, root: Path) -> list[str]:
        """history.jsonl from the store's line objects; lines mirrored before are not fetched
        again (`.history.json` keeps them by key): a pull costs one listing plus the new ones."""
        keys = sorted(self._call("listing history", self.fs.glob, self.key("history", "*.json")))
        kept_path = root / HISTORY_CACHE
        kept = json.loads(kept_path.read_text(encoding="utf-8")) if kept_path.is_file() else {}
        new = [k for k in keys if k not in kept]
        if new:
            got = self._call("reading history", self.fs.cat, new)
            kept.update({k: got[k].decode("utf-8").strip() for k in new})
        lines = [kept[k] for k in keys]
        write_text(root / HISTORY, "".join(line + "\n" for line in lines), kind="mirror")
        write_text(kept_path, json.dumps({k: kept[k] for k in keys}), kind="mirror")
        return lines

    def _fetch(self, root: Path, version: str) -> None:
        """Download one committed version into the mirror, verified against its manifest, unless
        the mirror has it (versions are immutable: checked once, when fetched)."""
        final = version_dir(root, version)
        if (final / MANIFEST).is_file():
            return
        manifest = self._call(f"reading {version}/{MANIFEST}", self.fs.cat_file,
                              self.key("versions", version, MANIFEST))
        tmp = new_folder(final.parent, version)
        try:
            files = json.loads(manifest).get("files") or {}
            for name in sorted(files):
                self._call(f"downloading {version}/{name}", self.fs.get_file,
                           self.key("versions", version, name), str(tmp / name))
            (tmp / MANIFEST).write_bytes(manifest)
            try:
                verify(tmp)
            except IntegrityError as exc:
                raise IntegrityError(str(exc).replace(str(tmp), f"{self.url}/registry/"
                                                      f"{self.name}/versions/{version}")) from None
            if final.exists():
                shutil.rmtree(final)
            publish(tmp, final, "mirror")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def push(self, root: Path, seen: Snapshot) -> list[str]:
        """Upload what the mirror gained since `seen`: versions (manifest last), the pointer,
        then history lines; returns the versions uploaded."""
        added = [v for v in version_names(root) if v not in seen.versions]
        for version in added:
            self.upload(root, version)
        pointer = root / CHAMPION
        if pointer.is_file() and pointer.read_bytes() != seen.champion:
            self._call("writing champion.json", self.fs.pipe_file, self.key(CHAMPION),
                       pointer.read_bytes())
            crash.point("saved:remote-champion")
        lines = (root / HISTORY).read_bytes().splitlines() if (root / HISTORY).is_file() else []
        kept_path = root / HISTORY_CACHE
        kept = json.loads(kept_path.read_text(encoding="utf-8")) if kept_path.is_file() else {}
        for n, line in enumerate(lines[seen.history:], seen.history):
            eid = str(json.loads(line).get("id") or f"{time.time_ns():x}")
            key = self.key("history", f"{n:08d}-{eid}.json")
            self._call("writing history", self.fs.pipe_file, key, line)
            kept[key] = line.decode("utf-8").strip()  # the next pull need not fetch it back
        write_text(kept_path, json.dumps(kept), kind="mirror")
        return added

    def upload(self, root: Path, version: str) -> None:
        """Every file of a local version, then its manifest: the version exists on the store
        from the manifest on, complete (crash points: after the first object, half-way, before
        the manifest)."""
        folder = version_dir(root, version)
        names = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST)
        half = min(len(names), len(names) // 2 + 1)  # 3 files: after the second
        for i, name in enumerate(names, 1):
            self._call(f"uploading {version}/{name}", self.fs.put_file, str(folder / name),
                       self.key("versions", version, name))
            crash.point("upload:first" if i == 1 else "upload:object")
            if i == half:
                crash.point("upload:half")
        crash.point("upload:manifest")
        self._call(f"uploading {version}/{MANIFEST}", self.fs.put_file, str(folder / MANIFEST),
                   self.key("versions", version, MANIFEST))
        crash.point("saved:upload")

    def sweep(self, max_age_s: float = SWEEP_AGE_S) -> list[str]:
        """Delete the uploads killed writers left (version folders without a manifest) last
        written more than `max_age_s` ago (0 under a lock that spans machines); their names."""
        done = self.committed()
        folders = self._call("listing versions", self.fs.glob, self.key("versions", "*"))
        gone = []
        for folder in folders:
            version = folder.rstrip("/").split("/")[-1]
            if version in done:
                continue
            objects = self._call("listing an upload", self.fs.find, folder, detail=True)
            newest = max((_mtime(o) for o in objects.values()), default=0.0)
            if time.time() - newest >= max_age_s:
                self._call(f"sweeping {version}", self.fs.rm, folder, recursive=True)
                gone.append(version)
        return gone


def _mtime(info: dict[str, Any]) -> float:
    """An object's last-modified time (s3fs: LastModified, gcsfs: updated, local: mtime)."""
    for key in ("LastModified", "last_modified", "updated", "mtime"):
        v = info.get(key)
        if v is not None:
            return v.timestamp() if hasattr(v, "timestamp") else float(v)
    return 0.0

