"""`lstmflow tune`: an Optuna study over the `tune:` ranges, trials on a thread pool or Dask,
scored on validation data; writes best.yaml (Prefect's embedded API; no server needed)."""

from __future__ import annotations

import argparse
import json
import sys

from lstmflow.cli.common import add_common, finish
from lstmflow.config import load_config
from lstmflow.runs import run_folder

FLAGS = (  # flag -> config key it sets
    ("trials", "tune.trials"), ("folds", "tune.folds"), ("study", "tune.study"),
    ("runner", "runtime.runner"), ("workers", "runtime.workers"),
    ("dask_address", "runtime.dask_address"),
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
    p.add_argument("--runner", choices=("thread", "dask"),
                   help="task runner of the trials (runtime.runner)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="trials at once (runtime.workers; 0: from the cores)")
    p.add_argument("--dask-address", metavar="tcp://HOST:8786",
                   help="a running Dask scheduler (runtime.dask_address; with --runner dask)")
    p.add_argument("--summary-out", help="also write tune.json here")
    p.set_defaults(func=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    sets = [f"{key}={json.dumps(getattr(args, flag))}" for flag, key in FLAGS
            if getattr(args, flag) is not None]
    if args.timeout is not None:
        sets.append(f"tune.timeout_minutes={json.dumps(args.timeout / 60)}")
    cfg = load_config(args.config, [*args.set, *sets])
    from lstmflow.data.read import check_path

    check_path(cfg.data.path)  # fail fast, before the API server starts
    from flows.training import new_run_id
    from flows.tune import tune_flow
    from lstmflow.report.tune import render_text
    from lstmflow.tune.study import TUNE_JSON

    run_id = new_run_id()
    run_dir = run_folder(cfg.output_dir, run_id)
    print(f"lstmflow: tune {run_id} -> {run_dir}", file=sys.stderr)
    state = tune_flow(cfg, run_id=run_id, return_state=True)
    return finish(args, state, run_dir / TUNE_JSON, render_text, "tune")
