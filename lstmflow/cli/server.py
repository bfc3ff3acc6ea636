"""A temporary Prefect API server started before the heavy imports, so that both happen at once.

With no `PREFECT_API_URL`, Prefect starts the same server itself at the first flow call, after
every import, and imports its whole server stack into this process first: ~8 s before a run
did any work. Started here, in a subprocess, while this process imports Lightning and Great
Expectations, the wait is about halved. It runs the app, settings and database Prefect's own
temporary server uses (`prefect.server.api.server.SubprocessASGIServer`); this process and every
process it starts (Dask workers, a tune's trials) talk to it through `PREFECT_API_URL`.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PORT_IN_USE = 3  # uvicorn's exit status when the port was taken between our check and its bind


def free_port() -> int:
    """A port the OS says is free now (another process may still take it: see PORT_IN_USE)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(port: int, log: Path) -> subprocess.Popen:
    """uvicorn serving Prefect's API app, as Prefect's temporary server runs it (no UI)."""
    import importlib.util

    spec = importlib.util.find_spec("prefect")  # locate it without importing it
    app_dir = Path(spec.origin).parent.parent
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
           "PREFECT__SERVER_FINAL": "1"}
    env.pop("PREFECT_API_URL", None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
             "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "error", "--lifespan", "on"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


HEAVY = ("great_expectations", "pytorch_lightning")  # what the gates and the fits import


def preload(modules: tuple[str, ...]) -> None:
    """Import `modules` in a background thread while this one waits on the server and the
    flow's first API calls (I/O: the GIL is free). Called once this thread holds no import
    lock, so the two cannot deadlock; a failure here is left for the real import to report."""
    import importlib
    import threading

    def run() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the task's own import says what is wrong
                return

    threading.Thread(target=run, name="lstmflow-preload", daemon=True).start()


def start_api_server() -> Callable[[], None]:
    """Start the temporary server now unless Prefect's settings (environment, profile, .env,
    prefect.toml) name an API or forbid a temporary one; returns `wait()`, which blocks until
    the server answers and raises RuntimeError with its log when it cannot start. Call it
    before any other Prefect import and wait before the first flow."""
    if os.environ.get("PREFECT_API_URL") or "prefect.context" in sys.modules:
        return lambda: None  # a server is named, or Prefect already read its settings
    log = Path(tempfile.mkstemp(prefix="lstmflow-prefect-server-", suffix=".log")[1])
    port = free_port()
    proc = _launch(port, log)  # boots on another core while this process imports Prefect
    atexit.register(lambda: (_stop(proc), log.unlink(missing_ok=True)))
    started = time.monotonic()
    import prefect.context
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        _stop(proc)  # Prefect's own rules apply: a named server, or its clear error
        return lambda: None
    url = f"http://127.0.0.1:{port}/api"
    os.environ["PREFECT_API_URL"] = url  # for this process and every process it starts
    prefect.context.refresh_global_settings_context()
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 90))

    def wait() -> None:
        import httpx

        while time.monotonic() - started < timeout:
            code = proc.poll()
            if code == PORT_IN_USE:  # another process took the port after free_port()
                raise RuntimeError(f"the temporary Prefect API server could not bind {url}: "
                                   "the port was taken; run again, or set PREFECT_API_URL")
            if code is not None:
                raise RuntimeError(f"the temporary Prefect API server exited ({code}): "
                                   f"{log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the temporary Prefect API server did not answer at {url} within "
                           f"{timeout:.0f} s: {log.read_text(errors='replace')[-2000:]}")

    return wait
