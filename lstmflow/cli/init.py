"""`lstmflow init`: infer a commented config from a data file, print what was inferred and why."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lstmflow.cli.common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="infer a config (YAML, commented) from a CSV or Parquet file")
    p.add_argument("--data", required=True, metavar="PATH", help="CSV or Parquet file (long layout)")
    p.add_argument("--target", metavar="COL", help="column to forecast (default: the only "
                   "numeric column, or one named target/y/value)")
    p.add_argument("--horizon", type=int, metavar="H", help="steps to forecast (default: one season)")
    p.add_argument("--out", metavar="FILE", help="where to write the config (default: "
                   "<data file name>.yaml in the current folder)")
    p.add_argument("--output-dir", default="outputs", help="the config's output_dir")
    p.add_argument("--holidays", metavar="COUNTRY", help="public holidays the series follows, "
                   "known ahead: an ISO country code, or COUNTRY-SUBDIVISION (e.g. US, US-CA); "
                   "not used when absent")
    p.add_argument("--no-fit", action="store_true",
                   help="skip the short validation fits that choose the target transform")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    if args.horizon is not None and args.horizon < 1:
        return fail(f"--horizon must be at least 1, got {args.horizon}", 2)
    out = Path(args.out) if args.out else Path(Path(args.data).name.split(".")[0] + ".yaml")
    if out.exists() and not args.force:
        return fail(f"'{out}' exists: pass --force to overwrite it, or another --out", 2)
    started = time.perf_counter()
    from lstmflow.init.build import infer_config
    from lstmflow.init.render import render_yaml

    inf = infer_config(args.data, args.target, args.horizon, args.output_dir,
                       try_transforms=not args.no_fit, log=lambda s: print(s, file=sys.stderr),
                       holidays=args.holidays)
    command = "lstmflow init " + " ".join(a for a in sys.argv[2:]) if len(sys.argv) > 2 \
        else f"lstmflow init --data {args.data}"
    text = render_yaml(inf, command)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print("inferred:")
    for note in inf.notes:
        print(f"  {note}")
    for key, why in inf.why.items():
        print(f"  {key} = {_value(inf.raw, key)!s}: {why}")
    for u in inf.undecided:
        print(f"  not decided: {u}")
    print(f"wrote {out} in {time.perf_counter() - started:.0f} s; next: "
          f"lstmflow train --config {out}")
    return 0


def _value(raw: dict, dotted: str):
    node = raw
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node
