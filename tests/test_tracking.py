"""tracking.logger: a real MLflow tracking server on a loopback port (from .mlflow-venv, which
`make test` builds) and real TensorBoard event files read back with TensorBoard's own reader."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmflow.config import build_config, load_config
from tests.conftest import ROOT, co2_config, small_config_dict

MLFLOW = Path(os.environ.get("LSTMFLOW_MLFLOW_SERVER", ROOT / ".mlflow-venv" / "bin" / "mlflow"))
DIVERGE = ["training.optimizer=rmsprop", "training.learning_rate=1.0", "training.gradient_clip=0",
           "training.max_steps=6", "training.val_check_steps=2", "training.auto_repair=1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    """`mlflow server` on a free loopback port with a SQLite store; stopped after the module."""
    if not MLFLOW.is_file():
        pytest.skip(f"no MLflow server at {MLFLOW} (make test builds .mlflow-venv)")
    where = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    log = (where / "server.log").open("w")
    proc = subprocess.Popen(
        [str(MLFLOW), "server", "--backend-store-uri", f"sqlite:///{where / 'db.sqlite'}",
         "--artifacts-destination", str(where / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(1)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
        log.close()
        pytest.fail(f"mlflow server did not start: {(where / 'server.log').read_text()[-2000:]}")
    yield uri
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def tracked(mlflow_server, prefect_harness, tmp_path_factory):
    """A training run tracked in MLflow: it diverges, one repair attempt (a nested run) fixes
    it, and the repaired model is promoted and mirrored with the alias 'champion'."""
    from flows.training import train_flow

    out = tmp_path_factory.mktemp("tracked")
    cfg = co2_config(out, *DIVERGE, "tracking.logger=mlflow", f"tracking.uri={mlflow_server}",
                     "registry.promote=always")
    summary = train_flow(cfg, run_id="tracked")
    return cfg, summary, out


def client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def test_a_tracked_run_has_its_curves_params_tags_and_nested_attempts(mlflow_server, tracked):
    cfg, summary, out = tracked
    assert summary["status"] == "completed" and summary["repair"]["chosen"] == 1
    c = client(mlflow_server)
    exp = c.get_experiment_by_name(cfg.name)
    runs = c.search_runs([exp.experiment_id], "tags.`lstmflow.run_id` = 'tracked'")
    (run,) = runs
    history = json.loads((out / "runs" / "tracked" / "attempts" / "0" / "history.json")
                         .read_text())
    curve = c.get_metric_history(run.info.run_id, "val_loss")
    assert [round(m.value, 5) for m in curve] == [round(h["val_loss"], 5) for h in history]
    assert [m.step for m in curve] == [h["step"] for h in history]
    assert run.data.params["training.optimizer"] == "rmsprop"
    assert run.data.params["forecast.intervals"] == "[0.8, 0.95]"
    assert run.data.tags["status"] == "completed" and run.data.tags["promoted"] == "True"
    assert run.data.tags["data_fingerprint"] == summary["data_fingerprint"]
    assert run.data.tags["gate.gate"] == "passed"
    assert run.data.metrics["test_mae/model"] == pytest.approx(summary["metrics"]["model"]["mae"])
    assert run.info.status == "FINISHED"
    nested = c.search_runs([exp.experiment_id],
                           f"tags.`mlflow.parentRunId` = '{run.info.run_id}'")
    assert [r.info.run_name for r in nested] == ["attempt-1"]
    assert nested[0].data.tags["remedy_for"] == "divergence"
    assert len(c.get_metric_history(nested[0].info.run_id, "val_loss")) >= 1


def test_the_champion_alias_forecasts_what_predict_serves(mlflow_server, tracked):
    """models:/<name>@champion loads (lstmflow's verified loader behind a pyfunc) and
    forecasts the numbers `lstmflow predict` writes, to 1e-6."""
    import mlflow

    from lstmflow.data.ingest import ingest
    from lstmflow.serve.predict import champion_for, forecast

    cfg, _, _ = tracked
    c = client(mlflow_server)
    alias = c.get_model_version_by_alias(cfg.name, "champion")
    assert alias.tags["lstmflow_version"] == "tracked"
    mlflow.set_tracking_uri(mlflow_server)
    model = mlflow.pyfunc.load_model(f"models:/{cfg.name}@champion")
    champ = champion_for(cfg)
    frame = ingest(champ.cfg.data).frame
    served, _ = forecast(champ, frame)
    mirrored = model.predict(frame)
    assert list(mirrored.columns) == list(served.columns)
    for col in ("forecast", "lower_80", "upper_95"):
        np.testing.assert_allclose(mirrored[col], served[col], rtol=0, atol=1e-6)


def test_rollback_moves_the_alias_back(mlflow_server, tracked, prefect_harness, tmp_path):
    import yaml

    from flows.training import train_flow
    from lstmflow.cli import main

    cfg, _, _ = tracked
    c = client(mlflow_server)
    first = c.get_model_version_by_alias(cfg.name, "champion").version
    again = train_flow(cfg, run_id="second", force=True)
    assert again["promoted"]
    assert c.get_model_version_by_alias(cfg.name, "champion").tags["lstmflow_version"] == "second"
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    assert main(["registry", "rollback", "--config", str(path)]) == 0
    assert c.get_model_version_by_alias(cfg.name, "champion").version == first


def test_a_stopped_tracking_server_is_one_warning_and_a_completed_run(prefect_harness,
                                                                      sample_slice, tmp_path):
    from flows.training import train_flow

    raw = small_config_dict(sample_slice, tmp_path / "out", registry={"promote": "always"},
                            tracking={"logger": "mlflow", "uri": f"http://127.0.0.1:{free_port()}"})
    summary = train_flow(build_config(raw), run_id="untracked")
    assert summary["status"] == "completed" and summary["promoted"]
    said = [w for w in summary["warnings"] if w.startswith("tracking:")]
    assert len(said) == 1 and "the run goes on without it" in said[0]
    assert "opening a mlflow run failed" in said[0]


def test_tensorboard_scalars_are_the_recorded_curve(sample_slice, tmp_path):
    """Event files read back with TensorBoard's own reader hold history.json's values."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from lstmflow.core import Forecaster
    from lstmflow.data.ingest import ingest
    from lstmflow.fit.tracking import open_run

    raw = small_config_dict(sample_slice, tmp_path / "out",
                            tracking={"logger": "tensorboard", "uri": str(tmp_path / "tb")})
    cfg = build_config(raw)
    run = open_run(cfg, "fit")
    fit = Forecaster(cfg).fit(ingest(cfg.data).frame, track=run)
    events = EventAccumulator(str(tmp_path / "tb" / cfg.name / "fit"))
    events.Reload()
    loss = events.Scalars("val_loss")
    assert [e.step for e in loss] == [h["step"] for h in fit.history]
    np.testing.assert_allclose([e.value for e in loss], [h["val_loss"] for h in fit.history],
                               rtol=1e-6)
    assert "grad_norm_mean/lstm.l0" in events.Tags()["scalars"]


def test_the_csv_logger_writes_a_row_per_check(sample_slice, tmp_path):
    from lstmflow.core import Forecaster
    from lstmflow.data.ingest import ingest
    from lstmflow.fit.tracking import open_run

    cfg = build_config(small_config_dict(sample_slice, tmp_path / "out",
                                         tracking={"logger": "csv"}))
    fit = Forecaster(cfg).fit(ingest(cfg.data).frame, track=open_run(cfg, "fit"))
    table = pd.read_csv(tmp_path / "out" / "tracking" / cfg.name / "fit" / "metrics.csv")
    assert table.dropna(subset=["val_loss"])["step"].tolist() == [h["step"] for h in fit.history]


def test_tracking_is_off_by_default_and_needs_nothing():
    cfg = load_config(ROOT / "configs" / "default.yaml")
    assert cfg.tracking.logger == "none"
    from lstmflow.fit.tracking import open_run

    assert open_run(cfg, "x") is None
