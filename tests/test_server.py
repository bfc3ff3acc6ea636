"""The deployment for real: `prefect server start` on a free loopback port, `make deploy`, the
server's scheduler, a triggered run on a process worker (`make worker`), and the creation check.

Every process started here (server, worker, the worker's flow-run processes) is stopped by
walking its process tree: the worker runs each flow run in a session of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.server

VENV_BIN = Path(sys.executable).parent
DEPLOYMENT = "lstmflow-train/nightly"
BACKTEST_DEPLOYMENT = "lstmflow-backtest/walk-forward"
PREDICT_DEPLOYMENT = "lstmflow-predict/predict"
TINY = [  # one series, one step between one validation check: the run takes seconds
    "name=servertest", "data.series=[AAPL]", "model.hidden_size=8", "model.num_layers=1",
    "training.max_steps=1", "training.val_check_steps=1", "runtime.torch_threads=1",
    "registry.promote=always",  # a champion for the predict deployment to forecast with
    "training.auto_repair=0",  # one fit: this test is about the deployment, not the repair
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _started(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat): tells a pid from its reuse."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def process_tree(pid: int) -> dict[int, str]:
    """pid and every process below it, with their start times (read before anything stops)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    tree, todo = {}, [pid]
    while todo:
        p = todo.pop()
        if started := _started(p):
            tree[p] = started
        todo += children.get(p, [])
    return tree


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM the process and its whole tree, then SIGKILL what is left after `grace` s;
    a pid whose start time changed belongs to someone else now and is left alone."""
    tree = process_tree(proc.pid)

    def alive() -> list[int]:
        proc.poll()  # reap our direct child
        return [p for p, started in tree.items() if _started(p) == started]

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, sig)
        deadline = time.monotonic() + grace
        while alive() and time.monotonic() < deadline:
            time.sleep(0.2)
    proc.wait(timeout=5)


def wait_for(what: str, check, timeout: float, every: float = 1.0, detail=lambda: ""):
    """Poll `check()` until it returns something truthy (a request that times out counts as not
    yet); fail naming `what` (and `detail()`) after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except httpx.TimeoutException:  # a server busy for a moment (2 shared cores, SQLite):
            pass  # ask again; the deadline still catches one that never answers
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{detail()}")


def server_errors(server: dict) -> str:
    """The server log's error lines (the scheduler logs why it created no run)."""
    lines = (server["home"] / "server.log").read_text(errors="replace").splitlines()
    errors = [ln for ln in lines if "Error" in ln or "error" in ln][-10:]
    return "; server log errors:\n" + "\n".join(errors) if errors else ""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict]:
    """A real server with its own PREFECT_HOME; yields the env that points the CLI at it."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                TMPDIR=str(tmp_path_factory.mktemp("tmp")), PATH=f"{VENV_BIN}:{base['PATH']}")
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port)], env=base, stdout=log, stderr=subprocess.STDOUT)
    try:
        def healthy():
            if proc.poll() is not None:
                pytest.fail(f"prefect server exited: {(home / 'server.log').read_text()[-3000:]}")
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the server's /api/health", healthy, timeout=150)
        yield {"env": {**base, "PREFECT_API_URL": api}, "api": api, "home": home}
    finally:
        stop(proc)
        log.close()


def cli(env: dict, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    out = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def api_post(server: dict, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{server['api']}{path}", json=body, timeout=30)


@pytest.fixture(scope="module")
def deployed(server) -> list[dict]:
    """`make deploy` (pool + every deployment in prefect.yaml) against the test server."""
    cli(server["env"], "make", "--no-print-directory", "-o", ".venv/.installed", "deploy",
        f"PREFECT={VENV_BIN / 'prefect'}")
    deployments = api_post(server, "/deployments/filter", {}).json()
    assert {d["name"] for d in deployments} >= {"nightly", "walk-forward", "tune", "predict",
                                                "monitor", "watch"}
    return deployments


def scheduled_runs(server: dict, deployment_id: str) -> list[dict]:
    return api_post(server, "/flow_runs/filter", {
        "deployments": {"id": {"any_": [deployment_id]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
    }).json()


def test_every_scheduled_deployment_gets_scheduled_runs(server, deployed):
    """Fails with SQLAlchemy 2.1.x: Prefect 3.8.8's scheduler then creates no run at all.
    A schedule deployed switched off (the weekly backtest) creates none."""
    with_schedules = [d for d in deployed if any(s["active"] for s in d["schedules"])]
    assert with_schedules
    for dep in with_schedules:
        runs = wait_for(f"scheduled runs of deployment '{dep['name']}'",
                        lambda dep=dep: scheduled_runs(server, dep["id"]), timeout=90,
                        detail=lambda: server_errors(server))
        assert all(r["state"]["name"] == "Scheduled" for r in runs)
        print(f"{dep['name']}: {len(runs)} scheduled runs, next at "
              f"{min(r['next_scheduled_start_time'] for r in runs)}")
    backtest = next(d for d in deployed if d["name"] == "walk-forward")
    assert [(s["schedule"]["cron"], s["active"]) for s in backtest["schedules"]] == [
        ("0 4 * * 0", False)]
    assert scheduled_runs(server, backtest["id"]) == []


def test_deployment_stores_no_path_and_the_config_file(server, deployed):
    from lstmflow.deploy import config_parameters

    for dep in deployed:
        assert dep["parameters"] == {"config": config_parameters("configs/default.yaml")[
            "config"]}, dep["name"]
        assert dep["pull_steps"] == [{"lstmflow.deploy.set_project_directory": {}}]
        assert str(ROOT) not in json.dumps(dep)


def test_bad_parameters_are_refused_at_creation(server, deployed):
    nightly = next(d for d in deployed if d["name"] == "nightly")
    bad = json.loads(json.dumps(nightly["parameters"]["config"]))
    bad["forecast"]["horizon"] = 0
    for params, expected in (
        ({"config": bad}, "0 is less than the minimum of 1"),
        ({"overrides": ["no equals sign"]}, "does not match"),
        ({"config": {"forecast": {"horizon": 3}}}, "'data' is a required property"),
    ):
        r = api_post(server, f"/deployments/{nightly['id']}/create_flow_run", {"parameters": params})
        assert r.status_code == 409, r.text
        assert expected in r.json()["detail"]
        print(f"refused at creation (409): {r.json()['detail'][:160]}")


def run_on_worker(server: dict, deployment: str, overrides: list[str], tmp_path: Path,
                  worker_env: dict[str, str] | None = None, expect: str = "COMPLETED") -> dict:
    """Trigger `deployment` with `overrides`, run it on `make worker WORKER_ARGS=--run-once`
    (with `worker_env` added to the worker's environment) until it ends in state `expect`;
    returns the flow run."""
    started = cli(server["env"], str(VENV_BIN / "prefect"), "deployment", "run", deployment,
                  "--param", f"overrides={json.dumps(overrides)}")
    run_id = re.search(r"UUID: ([0-9a-f-]{36})", started.stdout).group(1)
    worker_log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "worker",
         f"PREFECT={VENV_BIN / 'prefect'}", "WORKER_ARGS=--run-once"],
        cwd=ROOT, env={**server["env"], **(worker_env or {})}, stdout=worker_log,
        stderr=subprocess.STDOUT)
    try:
        def finished():
            run = httpx.get(f"{server['api']}/flow_runs/{run_id}", timeout=30).json()
            return run if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

        run = wait_for("the triggered run to finish", finished, timeout=240, every=2)
    finally:
        stop(worker)
        worker_log.close()
    assert run["state"]["type"] == expect, (
        f"{run['state']}\n{(tmp_path / 'worker.log').read_text()[-4000:]}")
    print(f"flow run {run['name']} ({run_id}): {run['state']['name']}")
    return run


def test_triggered_run_with_overrides_completes_on_a_process_worker(server, deployed, tmp_path):
    """The nightly deployment trains a champion; the predict deployment forecasts with it."""
    out = tmp_path / "outputs"
    overrides = [*TINY, f"output_dir={out}"]
    run = run_on_worker(server, DEPLOYMENT, overrides, tmp_path)
    run_id = run["id"]
    assert run["parameters"]["overrides"] == overrides  # the deployment's config was kept
    assert run["parameters"]["config"]["data"]["path"] == "data/sample/stocks.parquet"
    summary = json.loads(next(out.glob("runs/*/summary.json")).read_text())
    assert summary["status"] == "completed" and summary["flow_run_id"] == run_id
    assert summary["config"]["training"]["max_steps"] == 1
    assert summary["config"]["evaluation"]["val_size"] == 250  # from configs/default.yaml
    arts = api_post(server, "/artifacts/filter",
                    {"artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
    assert {"run-summary", "test-metrics"} <= {a["key"] for a in arts}

    predicted = run_on_worker(server, PREDICT_DEPLOYMENT, overrides, tmp_path)
    record = json.loads(next(out.glob("predictions/servertest/*/prediction.json")).read_text())
    assert record["model_version"] == summary["run_id"] and record["series"] == 1
    forecasts = pd.read_parquet(record["out"])
    assert list(forecasts["series_id"].unique()) == ["AAPL"] and len(forecasts) == 5
    arts = api_post(server, "/artifacts/filter",
                    {"artifacts": {"flow_run_id": {"any_": [predicted["id"]]}}}).json()
    assert "prediction" in {a["key"] for a in arts}


def test_a_run_leaving_the_workers_allowed_roots_fails_before_reading(server, deployed, tmp_path):
    """LSTMFLOW_ALLOWED_ROOTS on the worker (not a parameter): a UI-triggered run whose data
    path lies outside fails with the key and the roots, and writes nothing."""
    out = tmp_path / "outputs"
    roots = {"LSTMFLOW_ALLOWED_ROOTS": f"{ROOT / 'data'},{out},s3://team-bucket/lstmflow"}
    run = run_on_worker(server, DEPLOYMENT, [*TINY, f"output_dir={out}", "data.path=/etc/passwd"],
                        tmp_path, worker_env=roots, expect="FAILED")
    assert run["state"]["message"].startswith(
        "config key 'data.path' (/etc/passwd) is outside the locations this worker allows"), run
    assert not out.exists()  # (a bucket outside the prefix: tests/test_locations.py)


def test_triggered_backtest_completes_on_a_process_worker(server, deployed, tmp_path):
    """The backtest deployment, triggered by hand with its weekly schedule off."""
    out = tmp_path / "outputs"
    overrides = [*TINY, "backtest.folds=2", "runtime.workers=2", f"output_dir={out}"]
    run = run_on_worker(server, BACKTEST_DEPLOYMENT, overrides, tmp_path)
    summary = json.loads(next(out.glob("runs/*/backtest.json")).read_text())
    assert summary["status"] == "completed" and summary["flow_run_id"] == run["id"]
    assert [f["status"] for f in summary["folds"]] == ["completed", "completed"]
    arts = api_post(server, "/artifacts/filter",
                    {"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    assert {"backtest-folds", "backtest-summary", "gate-ingested"} <= {a["key"] for a in arts}
