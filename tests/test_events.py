"""The loop closed by events on a real `prefect server` with a process worker, no mocks: new rows
in a real series with signal (weekly CO2) > the watch deployment emits lstmflow.data.updated >
the server's triggers create the retrain (and monitor) runs > the promotion emits
lstmflow.champion.promoted > a predict run > degraded new rows > monitor emits
lstmflow.champion.degraded > a retrain run. Every triggered run carries its event's id; nothing
the test starts but the watch runs."""

from __future__ import annotations

import json
import os
import subprocess
import time

import httpx
import pandas as pd
import pytest
import yaml

from tests.conftest import CO2, ROOT
from tests.test_server import VENV_BIN, api_post, cli, server, stop, wait_for  # noqa: F401

pytestmark = pytest.mark.server
START = 2000  # rows of the series the first champion sees


def flow_runs(srv: dict, deployment: str) -> list[dict]:
    dep = httpx.get(f"{srv['api']}/deployments/name/{deployment}", timeout=30).json()
    return api_post(srv, "/flow_runs/filter",
                    {"deployments": {"id": {"any_": [dep["id"]]}}}).json()


def triggered(srv: dict, deployment: str, event: str | None = None) -> list[dict]:
    """The deployment's runs a trigger created (an event id in their parameters)."""
    return [r for r in flow_runs(srv, deployment) if r["parameters"].get("event_id")
            and (event is None or r["parameters"]["event_id"] == event)]


def done(run: dict) -> bool:
    return run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED")


def finished(srv: dict, deployment: str, count: int, timeout: float = 300) -> list[dict]:
    """Wait until the deployment has `count` triggered runs, all finished; they must complete."""
    runs = wait_for(f"{count} triggered run(s) of {deployment}", lambda: (
        rs if len(rs := triggered(srv, deployment)) >= count and all(map(done, rs)) else None),
        timeout=timeout, every=2)
    assert all(r["state"]["type"] == "COMPLETED" for r in runs), [r["state"] for r in runs]
    return sorted(runs, key=lambda r: r["created"])


def watch(srv: dict) -> dict:
    """Run the watch deployment once (by hand, as its schedule would) and wait for it."""
    out = cli(srv["env"], str(VENV_BIN / "prefect"), "deployment", "run",
              "lstmflow-watch/watch")
    run_id = out.stdout.split("UUID: ")[1].split()[0]
    return wait_for("the watch run", lambda: (
        r if done(r := httpx.get(f"{srv['api']}/flow_runs/{run_id}", timeout=30).json())
        else None), timeout=180, every=2)


@pytest.fixture(scope="module")
def scenario(server, tmp_path_factory):  # noqa: F811
    """Deploy prefect.yaml with a CO2 config of its own (LSTMFLOW_DEPLOY_CONFIG) and run a
    process worker that polls every 2 s."""
    tmp = tmp_path_factory.mktemp("events")
    full = pd.read_csv(CO2)
    full.head(START).to_csv(tmp / "co2.csv", index=False)
    raw = yaml.safe_load((ROOT / "configs" / "co2.yaml").read_text())
    raw.update(name="eventtest", output_dir=str(tmp / "out"))
    raw["data"]["path"] = str(tmp / "co2.csv")
    raw["model"] = {"hidden_size": 8, "num_layers": 1}
    raw["training"] = {"max_steps": 4, "val_check_steps": 2, "auto_repair": 0,
                       "warm_start": "never"}
    raw["registry"] = {"promote": "always"}
    raw["monitor"] = {"min_points": 4}
    raw["runtime"] = {"torch_threads": 1}
    (tmp / "events.yaml").write_text(yaml.safe_dump(raw))
    env = {**server["env"], "LSTMFLOW_DEPLOY_CONFIG": str(tmp / "events.yaml"),
           "PREFECT_WORKER_QUERY_SECONDS": "2"}
    cli(env, "make", "--no-print-directory", "-o", ".venv/.installed", "deploy",
        f"PREFECT={VENV_BIN / 'prefect'}")
    log = (tmp / "worker.log").open("w")
    worker = subprocess.Popen(["make", "--no-print-directory", "-o", ".venv/.installed", "worker",
                               f"PREFECT={VENV_BIN / 'prefect'}"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        yield {"server": server, "tmp": tmp, "full": full, "out": tmp / "out"}
    finally:
        stop(worker)
        log.close()


def test_data_updates_promotions_and_degradation_drive_the_runs(scenario):
    srv, tmp, full, out = (scenario[k] for k in ("server", "tmp", "full", "out"))
    first = watch(srv)  # a baseline: no event, nothing triggered
    assert first["state"]["type"] == "COMPLETED" and not triggered(srv, "lstmflow-train/nightly")

    full.head(START + 30).to_csv(tmp / "co2.csv", index=False)  # new rows arrive
    watch(srv)
    (retrain,) = finished(srv, "lstmflow-train/nightly", 1)
    update = retrain["parameters"]["event_id"]
    summary = json.loads(next(out.glob("runs/*/summary.json")).read_text())
    assert summary["promoted"] and summary["trigger_event"] == update
    (predict,) = finished(srv, "lstmflow-predict/predict", 1)  # on the promotion
    promoted = predict["parameters"]["event_id"]
    assert promoted != update
    (monitor,) = finished(srv, "lstmflow-monitor/monitor", 1)
    assert monitor["parameters"]["event_id"] == update

    shifted = full.head(START + 60).copy()  # the next rows, their level 30% up
    shifted.loc[START + 30:, "co2"] *= 1.3
    shifted.to_csv(tmp / "co2.csv", index=False)
    watch(srv)
    monitors = finished(srv, "lstmflow-monitor/monitor", 2)
    record = json.loads((out / "monitor" / "eventtest" / "monitor.json").read_text())
    assert record["degraded"] and record["points"] >= 4 and record["event"]
    live = record["live"]["overall"]["model"]["rel_mae"]
    assert live > 1 and "no better than the random walk" in record["degraded_reason"]
    print(f"monitor {monitors[-1]['name']}: live MAE/naive {live:.3g}, at promotion "
          f"{record['at_promotion']['rel_mae']:.3g}, event {record['event']}")
    # the degraded event retrains (after the data update's own retrain of the same rows)
    retrains = finished(srv, "lstmflow-train/nightly", 3)
    assert record["event"] in {r["parameters"]["event_id"] for r in retrains}
    print_table(record)

    settled = {d: len(flow_runs(srv, d)) for d in ("lstmflow-train/nightly",
                                                       "lstmflow-predict/predict")}
    watch(srv)  # unchanged data: no event, no training
    time.sleep(10)
    assert {d: len(flow_runs(srv, d)) for d in settled} == settled
    summaries = [json.loads(p.read_text()) for p in sorted(out.glob("runs/*/summary.json"))]
    assert sum(bool(s.get("skipped")) for s in summaries) >= 1  # the same rows twice: skipped
    assert os.environ.get("PREFECT_API_URL") is None  # nothing leaked into this process
    print_chain(srv)


def print_table(record: dict) -> None:
    """The live-vs-promotion figures after the degradation (shown with -s)."""
    live, then = record["live"]["overall"], record["at_promotion"]
    print(f"{'':<16}{'live MAE':>10}{'rel MAE':>9}{'at promotion':>14}")
    for method in ("model", "naive", "seasonal_naive"):
        m = live.get(method) or {}
        rel = m.get("rel_mae") if method == "model" else None
        print(f"{method:<16}{m.get('mae', float('nan')):>10.5g}{rel or float('nan'):>9.4g}"
              f"{then.get('rel_mae') if method == 'model' else float('nan'):>14.4g}")
    print(f"{record['points']} points; degraded: {record['degraded_reason']}")


def print_chain(srv: dict) -> None:
    """Every run of the four deployments in the order the server created them, with the event
    that triggered it (shown with -s)."""
    runs = [(d, r) for d in ("lstmflow-watch/watch", "lstmflow-train/nightly",
                             "lstmflow-predict/predict", "lstmflow-monitor/monitor")
            for r in flow_runs(srv, d) if r["state"]["type"] != "SCHEDULED"]
    for d, r in sorted(runs, key=lambda dr: dr[1]["created"]):
        event = r["parameters"].get("event_id") or "-"
        print(f"{r['created'][11:23]} {d:<26}{r['state']['name']:<11}event {event}")
