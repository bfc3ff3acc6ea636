"""`lstmflow backtest`: walk-forward folds, each refit on its own rows, on a thread pool or
Dask (Prefect's embedded API; no server needed)."""

from __future__ import annotations

import argparse
import json
import sys

from lstmflow.cli.common import add_common, finish
from lstmflow.config import load_config
from lstmflow.runs import run_folder

FLAGS = (  # flag -> config key it sets
    ("folds", "backtest.folds"), ("step", "backtest.step"), ("window", "backtest.window"),
    ("runner", "runtime.runner"), ("workers", "runtime.workers"),
    ("dask_address", "runtime.dask_address"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="walk-forward backtest: refit and score per fold")
    add_common(p)
    p.add_argument("--folds", type=int, metavar="K", help="number of cut-offs (backtest.folds)")
    p.add_argument("--step", type=int, metavar="S",
                   help="steps between cut-offs (backtest.step; default evaluation.test_size)")
    p.add_argument("--window", choices=("expanding", "sliding"), help="backtest.window")
    p.add_argument("--runner", choices=("thread", "dask"),
                   help="task runner of the folds (runtime.runner)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="folds at once (runtime.workers; 0: from the cores)")
    p.add_argument("--dask-address", metavar="tcp://HOST:8786",
                   help="a running Dask scheduler (runtime.dask_address; with --runner dask)")
    p.add_argument("--summary-out", help="also write backtest.json here")
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    sets = [f"{key}={json.dumps(getattr(args, flag))}" for flag, key in FLAGS
            if getattr(args, flag) is not None]
    cfg = load_config(args.config, [*args.set, *sets])
    from lstmflow.data.read import check_path

    check_path(cfg.data.path)  # fail fast, before the API server starts
    from flows.backtest import backtest_flow
    from flows.training import new_run_id
    from lstmflow.backtest.results import BACKTEST, render_text

    run_id = new_run_id()
    run_dir = run_folder(cfg.output_dir, run_id)
    print(f"lstmflow: backtest {run_id} -> {run_dir}", file=sys.stderr)
    state = backtest_flow(cfg, run_id=run_id, return_state=True)
    return finish(args, state, run_dir / BACKTEST, render_text, "backtest")
