"""`lstmflow` command line: one module per command, each with `register(subparsers)`.

Heavy imports (Prefect, Great Expectations, Lightning) happen inside the commands so that
`--help` and config errors answer at once.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys

from lstmflow.cli import backtest, init, monitor, predict, registry, report, train, tune, validate
from lstmflow.cli.common import fail, prefect_env
from lstmflow.config import ConfigError

COMMANDS = (init, train, backtest, tune, validate, report, registry, predict, monitor)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lstmflow",
        description="Scheduled LSTM retraining with Prefect that refuses bad data and bad fits.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


def run() -> None:
    """The console script: `main`, then, once every atexit handler has run (Prefect's log and
    event flush, the temporary server's stop), an exit that skips tearing down the imported
    modules: Lightning, torch and Great Expectations took ~2 s of every command there. A
    traceback (--debug) or an argparse exit takes Python's usual way out."""
    done: dict[str, int] = {}
    atexit.register(_exit_now, done)  # registered first, so it runs after every other handler
    done["code"] = main()
    sys.exit(done["code"])


def _exit_now(done: dict[str, int]) -> None:
    if "code" in done:
        if "logging" in sys.modules:  # its own atexit flush may have been registered earlier
            sys.modules["logging"].shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(done["code"])


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    prefect_env()
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except Exception as exc:
        from lstmflow.data.schema import DataError

        if getattr(args, "debug", False):
            raise
        if isinstance(exc, ConfigError | DataError):
            return fail(str(exc), 2)
        return fail(f"{type(exc).__name__}: {exc} (rerun with --debug for the traceback)")
