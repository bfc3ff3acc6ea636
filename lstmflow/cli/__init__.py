"""`lstmflow` command line: one module per command, each with `register(subparsers)`.

Heavy imports (Prefect, Great Expectations, Lightning) happen inside the commands so that
`--help` and config errors answer at once.
"""

from __future__ import annotations

import argparse

from lstmflow.cli import backtest, init, predict, registry, report, train, tune, validate
from lstmflow.cli.common import fail, prefect_env
from lstmflow.config import ConfigError

COMMANDS = (init, train, backtest, tune, validate, report, registry, predict)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lstmflow",
        description="Scheduled LSTM retraining with Prefect that refuses bad data and bad fits.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


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
