"""Run real `lstmflow train` processes cheaply, to kill them at crash points (tests/test_crash.py).

A process that imports Prefect, Great Expectations and Lightning takes ~10 s before it does any
work, and one that starts its own Prefect API another ~15 s. So the processes are forked from
a multiprocessing *forkserver* that imported those modules once, and talk to the session's
Prefect test server (PREFECT_API_URL, set before the forkserver starts: Prefect reads its
settings at import). Each child is a separate process running `lstmflow.cli.main(argv)`, the
very function the `lstmflow` console script runs; a crash point SIGKILLs it (exit code -9).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from pathlib import Path

PRELOAD = ["tests.crashkit", "lstmflow.cli", "flows.training", "pytorch_lightning",
           "great_expectations", "expectations.ingested", "expectations.model_inputs",
           "lstmflow.fit.train", "lstmflow.fit.checkpoint", "models.lstm", "safetensors.torch"]
KILLED = -9  # multiprocessing's exit code of a process ended by SIGKILL


def run_cli(argv: list[str], env: dict[str, str], out: str, cwd: str | None = None) -> None:
    """The child: `lstmflow <argv>` with extra environment (and working directory), stdout and
    stderr into `out`."""
    os.environ.update(env)
    if cwd:
        os.chdir(cwd)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    import torch

    torch.set_num_threads(1)  # two cores shared by every test process
    from lstmflow.cli import main

    try:
        rc = main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(rc)


class Runner:
    """Starts `lstmflow` children from one forkserver bound to the Prefect API at `api_url`."""

    def __init__(self, api_url: str, logs: Path) -> None:
        self.ctx = mp.get_context("forkserver")
        self.ctx.set_forkserver_preload(PRELOAD)
        self.logs, self.count = logs, 0
        saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_SERVER_ANALYTICS_ENABLED")}
        os.environ.update(PREFECT_API_URL=api_url, PREFECT_SERVER_ANALYTICS_ENABLED="false")
        try:  # the forkserver inherits this environment once, when it starts
            from multiprocessing import forkserver

            forkserver.ensure_running()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def start(self, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None):
        """Start one `lstmflow` child; returns (process, path of its output)."""
        self.count += 1
        out = self.logs / f"child-{self.count}.log"
        p = self.ctx.Process(target=run_cli,
                             args=(argv, env or {}, str(out), str(cwd) if cwd else None))
        p.start()
        return p, out

    def run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 180,
            cwd: Path | None = None):
        """Run one child to its end; returns (exit code, its whole output)."""
        p, out = self.start(argv, env, cwd)
        p.join(timeout)
        if p.exitcode is None:
            p.kill()
            p.join()
            raise TimeoutError(f"lstmflow {' '.join(argv)} ran over {timeout} s:\n{_text(out)[-4000:]}")
        return p.exitcode, _text(out)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
