"""`lstmflow backtest`: walk-forward folds, each refit on its own rows, on a thread pool or
Dask (Prefect's embedded API; no server needed)."""

from __future__ import annotations

import argparse

from lstmflow.cli.common import RUNNER_FLAGS, add_common, add_runner_flags, flag_config, run_flow
from lstmflow.cli.server import start_api_server

FLAGS = (  # flag -> config key it sets
    ("folds", "backtest.folds"), ("step", "backtest.step"), ("window", "backtest.window"),
    *RUNNER_FLAGS,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backtest", help="walk-forward backtest: refit and score per fold")
    add_common(p)
    p.add_argument("--folds", type=int, metavar="K", help="number of cut-offs (backtest.folds)")
    p.add_argument("--step", type=int, metavar="S",
                   help="steps between cut-offs (backtest.step; default evaluation.test_size)")
    p.add_argument("--window", choices=("expanding", "sliding"), help="backtest.window")
    add_runner_flags(p, "folds")
    p.add_argument("--summary-out", help="also write backtest.json here")
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    cfg = flag_config(args, FLAGS)
    api_ready = start_api_server()  # boots while the flow's modules import
    from flows.backtest import backtest_flow
    from lstmflow.backtest.results import BACKTEST, render_text

    return run_flow(args, cfg, backtest_flow, BACKTEST, render_text, "backtest", api_ready)
