"""`lstmflow predict`: forecast the next horizon steps of every series with the verified champion.

Without a Prefect server (no PREFECT_API_URL) it runs the prediction's steps as plain functions
(`lstmflow.serve.predict.run_prediction`): Prefect's temporary API server would take longer to
start than the whole prediction, and would be thrown away afterwards with nothing recorded that
anyone can see. With PREFECT_API_URL set, or with --flow, it runs `flows/predict.py:predict_flow`,
the flow the `predict` deployment runs, so the run and its artifact show in the UI.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lstmflow.cli.common import add_common, config_from, fail
from lstmflow.cli.server import HEAVY, preload, start_api_server
from lstmflow.config.locations import check_local_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="forecast every series with the verified champion")
    add_common(p)
    p.add_argument("--out", metavar="PATH", help="Parquet file to write (default: "
                   "<output_dir>/predictions/<name>/<id>/forecasts.parquet)")
    p.add_argument("--flow", action="store_true",
                   help="run it as the Prefect flow even with no PREFECT_API_URL (starts a "
                   "temporary API server: slower); with PREFECT_API_URL set it always does")
    p.set_defaults(func=cmd_predict)


def cmd_predict(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    cfg = config_from(args)
    check_local_file("--out", args.out)
    out = Path(args.out) if args.out else None
    from lstmflow.serve.manifest import RegistryError

    if args.flow or os.environ.get("PREFECT_API_URL"):
        api_ready = start_api_server()  # boots while the flow's modules import
        from flows.predict import predict_flow

        preload(HEAVY[:1])  # the gate's import (prediction needs torch, not Lightning)
        api_ready()
        state = predict_flow(cfg, out=str(out) if out else None, return_state=True)
        if not state.is_completed():
            return fail(state.message or f"the prediction flow ended {state.name}")
        record, how = state.result(), "Prefect flow"
    else:
        from expectations.report import ingested_gate
        from lstmflow.serve.predict import run_prediction

        try:
            record, how = run_prediction(cfg, out, ingested_gate), "no Prefect API server"
        except RegistryError as exc:
            return fail(str(exc))
    print(render(record))
    print(f"  {time.perf_counter() - start:.1f} s in this process ({how})", file=sys.stderr)
    return 0


def render(record: dict) -> str:
    """The forecast in a few lines: what, with which version, where, its first rows."""
    import pandas as pd

    lines = [f"forecast {record['series']} series ({record['rows']} rows) with champion "
             f"{record['model_version']} -> {record['out']}"]
    lines += [f"  warning: {w}" for w in record["warnings"]]
    lines += [f"  prediction folder {record['store']}"] if record.get("store") else []
    head = pd.DataFrame(record["first_rows"])
    lines += ["", head.to_string(index=False, float_format=lambda v: f"{v:.6g}")]
    return "\n".join(lines)
