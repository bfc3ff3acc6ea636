"""`lstmflow tune`: an Optuna study over the `tune:` ranges, trials on a thread pool or Dask,
scored on validation data; writes best.yaml (Prefect's embedded API; no server needed)."""

from __future__ import annotations

import argparse
import json

from lstmflow.cli.common import RUNNER_FLAGS, add_common, add_runner_flags, flag_config, run_flow
from lstmflow.cli.server import start_api_server

FLAGS = (  # flag -> config key it sets
    ("trials", "tune.trials"), ("folds", "tune.folds"), ("study", "tune.study"),
    *RUNNER_FLAGS,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="search hyperparameters with Optuna; writes best.yaml")
    add_common(p)
    p.add_argument("--trials", type=int, metavar="N", help="trials to add (tune.trials)")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="start no trial after S seconds (tune.timeout_minutes = S / 60)")
    p.add_argument("--folds", type=int, metavar="K",
                   help="score each trial as the mean over K walk-forward folds (tune.folds)")
    p.add_argument("--study", help="study name (tune.study; default: the config's name)")
    add_runner_flags(p, "trials")
    p.add_argument("--summary-out", help="also write tune.json here")
    p.set_defaults(func=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    timeout = [] if args.timeout is None else [f"tune.timeout_minutes={json.dumps(args.timeout / 60)}"]
    cfg = flag_config(args, FLAGS, timeout)
    api_ready = start_api_server()  # boots while the flow's modules import
    from flows.tune import tune_flow
    from lstmflow.report.tune import render_text
    from lstmflow.tune.study import TUNE_JSON

    return run_flow(args, cfg, tune_flow, TUNE_JSON, render_text, "tune", api_ready)
