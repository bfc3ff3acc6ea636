"""`lstmflow report`: rebuild a run's report.html (a backtest's backtest.html) from its folder
and print the path."""

from __future__ import annotations

import argparse

from lstmflow.runs import run_folder


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="rebuild a run's report.html (or a backtest's "
                       "backtest.html) from its folder")
    p.add_argument("run_id", metavar="RUN_ID", help="the run, as named in <output-dir>/runs/")
    p.add_argument("--output-dir", default="outputs",
                   help="the config's output_dir, where runs/ lives (default: outputs)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Print the absolute path of the rebuilt report; works on failed and interrupted runs."""
    from lstmflow.backtest.results import BACKTEST
    from lstmflow.report.rebuild import rebuild_report
    from lstmflow.tune.study import TUNE_JSON

    run_dir = run_folder(args.output_dir, args.run_id)
    if (run_dir / BACKTEST).is_file():
        from lstmflow.report.backtest import write_backtest_report

        path = write_backtest_report(run_dir)
    elif (run_dir / TUNE_JSON).is_file():  # a tune run: tune.json holds all tune.html shows
        from lstmflow.records.tune import TuneSummary
        from lstmflow.report.tune import write_tune_report

        path = write_tune_report(run_dir, TuneSummary.read(run_dir / TUNE_JSON).to_json())
    else:
        path = rebuild_report(run_dir)
    print(path.resolve())
    return 0
