"""What every command shares: Prefect defaults for a machine with no server, one-paragraph errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lstmflow.cli.server import HEAVY, preload
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


RUNNER_FLAGS = (("runner", "runtime.runner"), ("workers", "runtime.workers"),
                ("dask_address", "runtime.dask_address"))


def add_runner_flags(p: argparse.ArgumentParser, jobs: str) -> None:
    """--runner, --workers, --dask-address: where a fan-out command runs its `jobs`."""
    p.add_argument("--runner", choices=("thread", "dask"),
                   help=f"task runner of the {jobs} (runtime.runner)")
    p.add_argument("--workers", type=int, metavar="N",
                   help=f"{jobs} at once (runtime.workers; 0: from the cores)")
    p.add_argument("--dask-address", metavar="tcp://HOST:8786",
                   help="a running Dask scheduler (runtime.dask_address; with --runner dask)")


def config_from(args: argparse.Namespace) -> PipelineConfig:
    return load_config(args.config, args.set)


def flag_config(args: argparse.Namespace, flags: Sequence[tuple[str, str]],
                extra: Sequence[str] = ()) -> PipelineConfig:
    """The config with --set, then each given flag (flag -> config key) and `extra` applied;
    its data path checked before any heavy import or the API server starts."""
    sets = [f"{key}={json.dumps(getattr(args, flag))}" for flag, key in flags
            if getattr(args, flag) is not None]
    cfg = load_config(args.config, [*args.set, *sets, *extra])
    from lstmflow.data.read import check_path

    check_path(cfg.data.path)
    return cfg


def run_flow(args: argparse.Namespace, cfg: PipelineConfig, flow: Callable, results: str,
             render: Callable[[dict], str], what: str,
             api_ready: Callable[[], None] = lambda: None) -> int:
    """Run a fan-out flow (backtest, tune) in a new run folder and `finish` with its results;
    `api_ready` waits for the API server `start_api_server` started."""
    from flows.common import new_run_id
    from lstmflow.runs import run_folder

    run_id = new_run_id()
    run_dir = run_folder(cfg.output_dir, run_id)
    print(f"lstmflow: {what} {run_id} -> {run_dir}", file=sys.stderr)
    preload(HEAVY)
    api_ready()
    state = flow(cfg, run_id=run_id, return_state=True)
    return finish(args, state, run_dir / results, render, what)


def finish(args: argparse.Namespace, state, path: Path, render: Callable[[dict], str],
           what: str) -> int:
    """After a flow: print the run's results file `path` with `render` (and copy it to
    --summary-out); exit 0 only when both the flow and the run completed, else the reason."""
    from lstmflow.runs import write_json

    if not path.exists():  # refused at ingestion: the run kept nothing
        return fail(state.message or f"the flow ended {state.name} without {path.name}")
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if args.summary_out:
        write_json(Path(args.summary_out), summary)
    print(render(summary))
    if state.is_completed() and summary["status"] == "completed":
        return 0
    if args.debug and state.is_failed():
        state.result(raise_on_failure=True)
    return fail(summary.get("reason") or state.message or f"the {what} flow failed")
