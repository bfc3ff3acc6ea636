"""The console script: clear errors and exit codes, no traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmflow.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_missing_data_file_is_a_clear_error():
    r = run_cli("train", "--config", "configs/default.yaml", "--set", "data.path=missing.csv")
    assert r.returncode != 0
    assert "data file 'missing.csv' does not exist" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_unknown_config_key_is_named():
    r = run_cli("train", "--config", "configs/default.yaml", "--set", "model.hiden_size=3")
    assert r.returncode == 2
    assert "config key 'model.hiden_size': unknown key" in r.stderr


def test_out_of_range_value_is_named():
    r = run_cli("train", "--config", "configs/default.yaml", "--set", "forecast.horizon=0")
    assert r.returncode == 2
    assert "config key 'forecast.horizon'" in r.stderr and "greater than or equal to 1" in r.stderr


def test_missing_config_file():
    r = run_cli("validate", "--config", "nope.yaml")
    assert r.returncode == 2 and "config file 'nope.yaml' does not exist" in r.stderr


def test_train_end_to_end_writes_summary(sample_slice, tmp_path):
    """The real command on a small real slice: exit 0, human summary, summary.json copy."""
    import json

    import yaml

    from tests.conftest import small_config_dict

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(small_config_dict(sample_slice, tmp_path / "out")))
    out = tmp_path / "s" / "summary.json"
    r = run_cli("train", "--config", str(cfg), "--set", "training.max_steps=8",
                "--summary-out", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    summary = json.loads(out.read_text())
    assert summary["status"] == "completed"
    assert summary["config"]["training"]["max_steps"] == 8
    run_dir = tmp_path / "out" / "runs" / summary["run_id"]
    assert json.loads((run_dir / "summary.json").read_text()) == summary
    for line in ("model MAE", "naive MAE", "AAPL", "MSFT", "ALL"):
        assert line in r.stdout


def test_report_of_a_missing_run_is_a_clear_error(tmp_path):
    r = run_cli("report", "nope", "--output-dir", str(tmp_path))
    assert r.returncode == 2
    assert f"run folder '{tmp_path / 'runs' / 'nope'}' does not exist" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli("report", "../x", "--output-dir", str(tmp_path))
    assert r.returncode == 2 and "one path component" in r.stderr
