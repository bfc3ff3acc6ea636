"""What every command shares: Prefect defaults for a machine with no server, one-paragraph errors."""

from __future__ import annotations

import argparse
import os
import sys

from lstmflow.config import PipelineConfig, load_config


def prefect_env() -> None:
    """Prefect defaults for a machine with no server and no network."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "true")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def fail(msg: str, code: int = 1) -> int:
    """Print `lstmflow: error: <msg>` to stderr and return the exit code.

    Lines are not wrapped here: the terminal wraps them, so a message reads the same wherever
    the project lives (a hard wrap at a fixed width moved with the length of the paths in it).
    """
    print(f"lstmflow: error: {msg}", file=sys.stderr)
    return code


def add_common(p: argparse.ArgumentParser, config_required: bool = True) -> None:
    """--config, --set and --debug, as every config-driven command takes them."""
    p.add_argument("--config", required=config_required, help="YAML config file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (dotted path; value parsed as YAML)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def config_from(args: argparse.Namespace) -> PipelineConfig:
    return load_config(args.config, args.set)
