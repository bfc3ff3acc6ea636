"""What a person does to the registry by hand (promote, roll back), what it holds (statuses), and
whether a run would retrain the champion on the same data with the same config.

Promote and rollback take the registry lock, verify the target's files against its manifest
(as every load does), swap the pointer atomically and append a history line saying who, when
and why (serve/history.py). Statuses: `champion` (the pointer), `rejected` (refused at
registration and never champion since), `candidate` (any other verified version), `damaged`
(files that do not match the manifest, or no manifest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmflow.durable import sweep
from lstmflow.locks import registry_lock
from lstmflow.serve.history import append, event, read_history, reconcile
from lstmflow.serve.manifest import IntegrityError, RegistryError, config_digest, verify
from lstmflow.serve.registry import champion, load_version, set_champion, version_dir, version_names

CHAMPION_ACTIONS = ("promote", "rollback")  # history actions that make a version champion


def promote_version(root: Path, version: str, reason: str | None = None,
                    force: bool = False) -> dict[str, Any]:
    """Make `version` champion by hand; a version rejected at registration needs `force`."""
    with registry_lock(root):
        sweep(root)
        pointer = champion(root)
        reconcile(root, pointer)
        target = load_version(version_dir(root, version))  # verified, or refused by file name
        old = pointer["version"] if pointer else None
        if old == version:
            raise RegistryError(f"version '{version}' is already the champion")
        decision = target.manifest.get("decision") or {}
        if decision.get("status") == "rejected" and not _was_champion(root, version) and not force:
            raise RegistryError(
                f"version '{version}' was rejected at registration ({decision.get('reason')}); "
                "promote it anyway with --force"
            )
        line = event("promote", version, reason or "promoted by hand", **{"from": old})
        pointer = set_champion(root, version, line, [*pointer.get("previous", []), old]
                               if pointer else [])
        append(root, line)
    return pointer


def rollback(root: Path, to: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """Make an earlier champion champion again: the one before the current (or `to`, which must
    have been champion before); the versions after it leave the rollback chain."""
    with registry_lock(root):
        sweep(root)
        pointer = champion(root)
        if pointer is None:
            raise RegistryError(f"registry '{root}' has no champion: nothing to roll back")
        reconcile(root, pointer)
        current, chain = pointer["version"], list(pointer.get("previous") or [])
        if to is None and not chain:
            raise RegistryError(f"champion '{current}' has no earlier champion recorded to roll "
                                "back to; name one with --to, or promote a version by hand")
        target = to or chain[-1]
        if target == current:
            raise RegistryError(f"version '{target}' is already the champion")
        if target not in chain:
            raise RegistryError(
                f"version '{target}' was never champion before '{current}' (earlier champions: "
                f"{', '.join(reversed(chain)) or 'none'}); use `lstmflow registry promote` to "
                "make another version champion"
            )
        load_version(version_dir(root, target))  # verified, or refused by file name
        keep = chain[: len(chain) - 1 - chain[::-1].index(target)]
        line = event("rollback", target, reason or f"rolled back from {current}",
                     **{"from": current})
        pointer = set_champion(root, target, line, keep)
        append(root, line)
    return pointer


def _was_champion(root: Path, version: str) -> bool:
    return any(e.get("version") == version and (e.get("action") in CHAMPION_ACTIONS
                                                or e.get("status") == "champion")
               for e in read_history(root))


def statuses(root: Path) -> list[dict[str, Any]]:
    """Every published version, oldest first: name, status, manifest (None when damaged) and
    the integrity error."""
    pointer = champion(root)
    history = read_history(root)
    made_champion = {e.get("version") for e in history
                     if e.get("action") in CHAMPION_ACTIONS or e.get("status") == "champion"}
    rows = []
    for name in version_names(root):
        try:
            manifest, error = verify(version_dir(root, name)), None
        except IntegrityError as exc:
            manifest, error = None, str(exc)
        if pointer and pointer["version"] == name:
            status = "champion" if manifest else "champion (damaged)"
        elif manifest is None:
            status = "damaged"
        elif (manifest.get("decision") or {}).get("status") == "rejected" and name not in made_champion:
            status = "rejected"
        else:
            status = "candidate"
        rows.append({"version": name, "status": status, "manifest": manifest, "error": error})
    return rows


def unchanged(root: Path, config: dict[str, Any], fingerprint: str) -> str | None:
    """Why training can be skipped, or None: the champion, or else the newest version, was
    trained on data with this fingerprint and the same effective config (a retrain with the same
    seed would make the same model: a rejected one would be rejected again). A version that
    cannot be verified is never a reason."""
    wanted = config_digest(config)
    try:
        pointer = champion(root)
    except RegistryError:
        pointer = None
    names = version_names(root)
    candidates = [pointer["version"]] if pointer else []
    candidates += [n for n in reversed(names[-1:]) if n not in candidates]
    for name in candidates:
        try:
            manifest = verify(version_dir(root, name))
        except RegistryError:
            continue
        if (manifest.get("data") or {}).get("fingerprint") != fingerprint:
            continue
        if wanted not in (manifest.get("requested_config_sha256"),
                          manifest.get("effective_config_sha256")):
            continue
        if pointer and name == pointer["version"]:
            return (f"nothing changed since champion {name}: same data (fingerprint "
                    f"{fingerprint}) and same effective config; no training "
                    "(registry.skip_unchanged; train anyway with --force)")
        status = (manifest.get("decision") or {}).get("status", "registered")
        return (f"nothing changed since version {name} (kept as {status}: "
                f"{(manifest.get('decision') or {}).get('reason', '')}): same data (fingerprint "
                f"{fingerprint}) and same effective config would train the same model; no "
                "training (registry.skip_unchanged; train anyway with --force)")
    return None
