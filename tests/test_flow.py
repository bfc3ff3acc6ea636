"""The whole training flow once through the Prefect test harness: real GE, real Lightning."""

from __future__ import annotations

import json

import pytest

from lstmflow.config import build_config
from tests.conftest import small_config_dict


@pytest.fixture(scope="module")
def flow_run(prefect_harness, sample_slice, tmp_path_factory):
    from flows.training import train_flow

    out = tmp_path_factory.mktemp("flow")
    cfg = build_config(small_config_dict(sample_slice, out))
    state = train_flow(cfg, run_id="flowtest", return_state=True)
    return cfg, state, out


def test_flow_completes_and_writes_summary(flow_run):
    cfg, state, out = flow_run
    assert state.is_completed(), state.message
    summary = json.loads((out / "runs" / "flowtest" / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["run_id"] == "flowtest"
    assert len(summary["data_fingerprint"]) == 16
    assert summary["gate"]["success"] is True and summary["gate"]["failed"] == []
    for method in ("model", "naive", "seasonal_naive"):
        block = summary["metrics"][method]
        assert block["mae"] > 0 and block["rmse"] >= block["mae"]
        assert block["rel_mae"] > 0  # geometric mean over series of MAE / naive MAE
        for s in block["per_series"].values():
            assert s["mase"] > 0 and s["mae"] > 0  # MASE: MAE over in-sample one-step naive MAE
        assert set(block["per_series"]) == {"AAPL", "MSFT"}
    assert summary["metrics"]["naive"]["rel_mae"] == pytest.approx(1.0)
    # Every method is scored on the same points.
    points = {summary["metrics"][m]["points"] for m in ("model", "naive", "seasonal_naive")}
    assert len(points) == 1
    # series x test origins x horizon, less targets on market holidays (unobserved grid steps)
    assert 0.9 * 2 * (30 - 3 + 1) * 3 <= points.pop() <= 2 * (30 - 3 + 1) * 3


def test_flow_saves_model_folder_without_pickle(flow_run):
    cfg, state, out = flow_run
    summary = json.loads((out / "runs" / "flowtest" / "summary.json").read_text())
    model_dir = out / "registry" / "test" / "versions" / "flowtest"
    assert summary["model_path"] == str(model_dir)
    names = {p.name for p in model_dir.iterdir()}
    assert {"model.safetensors", "state.json", "config.json", "metrics.json", "meta.json"} <= names
    assert not [p for p in model_dir.rglob("*") if p.suffix in (".pkl", ".pickle", ".ckpt", ".pt")]
    from lstmflow.serve.registry import load_version

    model, state_json, config, metrics = load_version(model_dir)
    assert state_json["target_transform"] == "log_return"
    assert config["forecast"]["horizon"] == 3


def test_missing_file_fails_flow_cleanly(prefect_harness, sample_slice, tmp_path):
    from flows.training import train_flow

    raw = small_config_dict(sample_slice, tmp_path / "out")
    raw["data"]["path"] = str(tmp_path / "missing.csv")
    state = train_flow(build_config(raw), run_id="missing", return_state=True)
    assert state.is_failed()
    assert "missing.csv' does not exist" in state.message
    assert not (tmp_path / "out" / "registry").exists()
