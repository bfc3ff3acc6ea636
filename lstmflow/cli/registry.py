"""`lstmflow registry list | show VERSION | promote VERSION | rollback [--to VERSION]`.

The registry is `<output_dir>/registry/<name>/`: from --config (its output_dir and name), or
from --output-dir and --name (default: the only registry in that folder). Promote and rollback
take the registry lock, verify the target's files and log who, when and why in history.jsonl.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lstmflow.cli.common import fail
from lstmflow.store.location import local_dir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registry", help="list, inspect, promote and roll back model versions")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--config", help="YAML config: its output_dir and name find the registry")
    where.add_argument("--output-dir", default="outputs",
                       help="the config's output_dir (default: outputs), when no --config")
    where.add_argument("--name", help="the config's name (default: the only registry there)")
    where.add_argument("--debug", action="store_true", help="show tracebacks")
    acts = p.add_subparsers(dest="action", required=True)
    acts.add_parser("list", parents=[where], help="every version: status, metrics, top finding")
    show = acts.add_parser("show", parents=[where], help="one version's manifest and history")
    show.add_argument("version", metavar="VERSION")
    prom = acts.add_parser("promote", parents=[where], help="make a version champion by hand")
    prom.add_argument("version", metavar="VERSION")
    prom.add_argument("--reason", help="why (kept in the history)")
    prom.add_argument("--force", action="store_true",
                      help="promote a version that was rejected at registration")
    back = acts.add_parser("rollback", parents=[where], help="make an earlier champion champion")
    back.add_argument("--to", metavar="VERSION", help="which earlier champion (default: the "
                      "one before the current)")
    back.add_argument("--reason", help="why (kept in the history)")
    p.set_defaults(func=cmd_registry)


def _config(args: argparse.Namespace):
    """The --config file's config, read once per command (None without one)."""
    if not args.config:
        return None
    if getattr(args, "loaded_config", None) is None:
        from lstmflow.config import load_config

        args.loaded_config = load_config(args.config)
    return args.loaded_config


def _where(args: argparse.Namespace) -> tuple[str, str | None, dict[str, Any]]:
    """(output_dir, registry name or None, storage_options) the arguments name."""
    cfg = _config(args)
    if cfg is not None:
        return cfg.output_dir, cfg.name, cfg.storage_options
    return args.output_dir, args.name, {}


def store_registries(output_dir: str, options: dict[str, Any]) -> list[str]:
    """The registries under a store URL's `registry/` (one listing)."""
    from lstmflow.store.location import filesystem

    fs, base = filesystem(output_dir, options)
    return sorted(k.rstrip("/").split("/")[-1] for k in fs.glob(f"{base}/registry/*"))


def registry_root(args: argparse.Namespace) -> Path:
    """The registry folder the arguments name (a URL's: its mirror, pulled from the store now);
    ConfigError when there is none or several."""
    from lstmflow.config import ConfigError
    from lstmflow.serve.registry import registry_dir, version_names
    from lstmflow.store.location import is_url, registry_shown, shown
    from lstmflow.store.shared import open_registry

    output_dir, name, options = _where(args)
    if is_url(output_dir):
        if not name:
            found = store_registries(output_dir, options)
            if len(found) != 1:
                raise ConfigError(f"'{shown(output_dir)}/registry' holds {len(found)} registries "
                                  f"({', '.join(found) or 'none'}): name one with --name or "
                                  "--config")
            name = found[0]
        root = open_registry(output_dir, name, options)
        if not version_names(root) and not (root / "champion.json").is_file():
            raise ConfigError(f"registry '{registry_shown(output_dir, name)}' does not exist "
                              "(no model was registered there)")
        return root
    if name:
        root = registry_dir(output_dir, name)
    else:
        base = local_dir(output_dir) / "registry"
        found = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
        if len(found) != 1:
            raise ConfigError(f"'{base}' holds {len(found)} registries "
                              f"({', '.join(p.name for p in found) or 'none'}): name one with "
                              "--name or --config")
        root = found[0]
    if not root.is_dir():
        raise ConfigError(f"registry '{root}' does not exist (no model was registered there)")
    return root


def cmd_registry(args: argparse.Namespace) -> int:
    from lstmflow.locks import LockBusy
    from lstmflow.serve.manifest import RegistryError
    from lstmflow.store.location import StoreError

    try:
        root = registry_root(args)
        return ACTIONS[args.action](root, args)
    except (RegistryError, LockBusy, StoreError) as exc:
        if args.debug:
            raise
        return fail(str(exc))


def _list(root: Path, args: argparse.Namespace) -> int:
    from lstmflow.serve.actions import statuses

    rows = statuses(root)
    print(f"registry {root}: {len(rows)} version(s)")
    print(f"  {'version':<26}{'created':<22}{'status':<20}{'model/naive':>12}{'model/snaive':>13}"
          "  top finding")
    for r in rows:
        m = r["manifest"] or {}
        o = ((m.get("metrics") or {}).get("overall") or {}).get("model") or {}
        print(f"  {r['version']:<26}{str(m.get('created', '-'))[:19]:<22}{r['status']:<20}"
              f"{_num(o.get('rel_mae')):>12}{_num(o.get('rel_mae_vs_seasonal_naive')):>13}"
              f"  {_top(m) if m else (r['error'] or '')[:80]}")
    return 0


def _show(root: Path, args: argparse.Namespace) -> int:
    from lstmflow.serve.actions import statuses
    from lstmflow.serve.history import events_of, read_history

    row = next((r for r in statuses(root) if r["version"] == args.version), None)
    if row is None:
        return fail(f"registry '{root}' has no version '{args.version}'")
    if row["manifest"] is None:
        return fail(row["error"])
    m, d = row["manifest"], row["manifest"].get("decision") or {}
    data = m.get("data") or {}
    print(f"version {args.version}: {row['status']} (files verified against the manifest)")
    print(f"  created {m.get('created')} by run {m.get('run_id')}; at registration: "
          f"{d.get('status')}: {d.get('reason')}")
    print(f"  data: {data.get('source')} fingerprint {data.get('fingerprint')}, "
          f"{len(data.get('series') or [])} series on a '{data.get('freq')}' grid")
    print(f"  gates: {_plain(m.get('gates'))}; seeds: {_plain(m.get('seeds'))}")
    print(f"  git commit: {m.get('git_commit') or 'unknown'}; libraries: "
          f"{_plain(m.get('libraries'))}")
    o = (m.get("metrics") or {}).get("overall") or {}
    for method, v in o.items():
        print(f"  test {method:<15} MAE {_num(v.get('mae'))}  rel MAE {_num(v.get('rel_mae'))}")
    for f in m.get("diagnosis") or []:
        print(f"  {f['severity'].upper()} {f['finding']}: {f.get('evidence')}")
    for name, f in sorted((m.get("files") or {}).items()):
        print(f"  file {name:<20} {f['size']:>10} bytes  sha256 {f['sha256']}")
    from lstmflow.report.live import live_line, read_live

    record, _ = read_live(root.parent.parent, root.name)  # <output_dir>/registry/<name>
    if record and record.get("champion") == args.version:
        print(f"  {live_line(record)}")
    for e in events_of(read_history(root), args.version):
        print(f"  {e['at']} {e['by']}: {e['action']} {e['version']}"
              f"{' (from ' + str(e['from']) + ')' if e.get('from') else ''}: {e.get('reason')}")
    return 0


def _promote(root: Path, args: argparse.Namespace) -> int:
    from lstmflow.serve.actions import promote_version

    with _writing(root, args) as root:
        pointer = promote_version(root, args.version, args.reason, args.force)
    return _done(pointer, args)


def _rollback(root: Path, args: argparse.Namespace) -> int:
    from lstmflow.serve.actions import rollback

    with _writing(root, args) as root:
        pointer = rollback(root, args.to, args.reason)
    return _done(pointer, args)


@contextmanager
def _writing(root: Path, args: argparse.Namespace) -> Iterator[Path]:
    """The registry to change, under the lock registry.lock asks for (without --config: 'auto')
    and, for a store URL, pulled first and pushed after (tasks.locks.registry_write)."""
    from tasks.locks import registry_write

    cfg = _config(args)
    output_dir, _, options = _where(args)
    with registry_write(output_dir, root.name, cfg.registry.lock if cfg is not None else "auto",
                        options) as (root, _):
        yield root


def _done(pointer: dict[str, Any], args: argparse.Namespace) -> int:
    e = pointer["event"]
    print(f"champion is now {pointer['version']} (was {e.get('from') or 'none'}); "
          f"{e['action']} by {e['by']} at {e['at']}: {e['reason']}")
    if args.config:  # the champion's alias in MLflow follows (tracking.logger: mlflow)
        from lstmflow.serve.mirror import move_alias

        cfg = _config(args)
        if cfg.tracking.logger == "mlflow" and move_alias(cfg, pointer["version"]):
            print(f"MLflow: registered model '{cfg.tracking.registered_model or cfg.name}' "
                  f"alias 'champion' moved to the version mirroring {pointer['version']}")
    return 0


ACTIONS = {"list": _list, "show": _show, "promote": _promote, "rollback": _rollback}


def _top(manifest: dict[str, Any]) -> str:
    """The worst finding of the diagnosis (findings are stored worst first)."""
    findings = manifest.get("diagnosis") or []
    return f"{findings[0]['severity']}: {findings[0]['finding']}" if findings else "-"


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"


def _plain(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True) if obj is not None else "-"
