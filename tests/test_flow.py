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
    assert summary["metrics"]["model"]["smape"] > 0 and summary["metrics"]["model"]["mase"] > 0
    assert [len(summary["metrics"]["per_horizon"][m]) for m in ("model", "naive")] == [3, 3]
    assert "seasonal-naive" in summary["metrics"]["mase_scale"]
    # the diagnosis, from the recorded run, and where the report is
    from lstmflow.fit.diagnosis import VOCABULARY

    assert summary["diagnosis"] and {f["finding"] for f in summary["diagnosis"]} <= set(VOCABULARY)
    for f in summary["diagnosis"]:
        assert f["severity"] in ("info", "warning", "error") and f["evidence"]
        assert isinstance(f["remedy"]["overrides"], list) and f["remedy"]["advice"]
    assert set(summary["data_stats"]["per_series"]) == {"AAPL", "MSFT"}
    report = out / "runs" / "flowtest" / "report.html"
    assert summary["report_path"] == str(report.resolve()) and report.is_file()
    # how the LSTM read its window: the default for input_size 24 is 2-step segments
    assert summary["training"]["segment_len"] == 2
    assert "the LSTM read its input in 2-step segments" in report.read_text(encoding="utf-8")
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
    assert names == {"model.safetensors", "hparams.json", "state.json", "manifest.json"}
    assert not [p for p in model_dir.rglob("*") if p.suffix in (".pkl", ".pickle", ".ckpt", ".pt")]
    from lstmflow.serve.registry import load_version

    version = load_version(model_dir)
    assert version.state["target_transform"] == "log_return"
    assert version.config["forecast"]["horizon"] == 3
    m = version.manifest  # what the version is, beside the hashes of its files
    assert set(m["files"]) == names - {"manifest.json"}
    assert m["data"]["fingerprint"] == summary["data_fingerprint"]
    assert m["data"]["series"] == ["AAPL", "MSFT"] and m["data"]["freq"] == "B"
    assert m["gates"] == {"ingested": True, "model-inputs": True}
    assert m["diagnosis"] == summary["diagnosis"] and m["seeds"]["training.seed"] == 42
    assert m["metrics"]["overall"]["model"]["mae"] == summary["metrics"]["model"]["mae"]
    assert m["libraries"]["torch"].startswith("2.13") and "git_commit" in m
    assert m["decision"]["status"] == ("champion" if summary["promoted"] else "rejected")
    assert summary["promotion_reason"] == m["decision"]["reason"]
    blend = version.state["blend"]  # fitted on validation, saved for predict
    assert len(blend["weights"]) == 3 and all(abs(sum(w) - 1) < 1e-9 for w in blend["weights"])


def test_missing_file_fails_flow_cleanly(prefect_harness, sample_slice, tmp_path):
    from flows.training import train_flow

    raw = small_config_dict(sample_slice, tmp_path / "out")
    raw["data"]["path"] = str(tmp_path / "missing.csv")
    state = train_flow(build_config(raw), run_id="missing", return_state=True)
    assert state.is_failed()
    assert "missing.csv' does not exist" in state.message
    assert not (tmp_path / "out" / "registry").exists()


def test_report_is_one_self_contained_file(flow_run):
    """Plots embedded as base64 PNG, nothing fetched from anywhere: it opens offline and mails."""
    import re

    cfg, state, out = flow_run
    html = (out / "runs" / "flowtest" / "report.html").read_text()
    assert html.index("<h2>Diagnosis</h2>") < html.index("<h2>Training curves</h2>")
    images = re.findall(r"<img [^>]*src='([^']*)'", html)
    summary = json.loads((out / "runs" / "flowtest" / "summary.json").read_text())
    shaped = any(f["finding"] in ("flat_forecast", "lagged_copy", "short_context")
                 for f in summary["diagnosis"])
    calibrated = bool((summary["metrics"].get("calibration") or {}).get("levels"))
    # loss and lr, gradient norms, forecasts, error by horizon; the intervals' coverage by
    # horizon step when the forecasts carry calibrated intervals; and next to a finding about
    # the forecasts' shape, the forecasts from a few test origins
    assert len(images) == 4 + calibrated + shaped
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r"(src|href)=['\"]?(https?:|//|file:)", html)
    for text in ("AAPL", "MSFT", "Config used", "ingested data", "model inputs", "MASE"):
        assert text in html
    assert (out / "runs" / "flowtest" / "forecasts.parquet").is_file()


def test_artifacts_show_the_diagnosis_and_link_the_report(flow_run):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    cfg, state, out = flow_run
    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        arts = {a.key: a for a in client.read_artifacts(artifact_filter=flt)}
    md = arts["run-summary"].data
    assert md.index("## Diagnosis") < md.index("## Test metrics")
    assert "0.000000" not in md and "**" not in md
    link = arts["run-report"].data
    assert "report.html" in link
    rows = json.loads(arts["test-metrics"].data)
    assert len(rows[0]) <= 8  # series, 3 MAEs, 2 relative MAEs, MASE, sMAPE
    assert all(len(f"{v}".split(".")[-1]) <= 6 for r in rows for v in r.values()
               if isinstance(v, float))


def test_a_fit_that_diverges_fails_and_still_explains_itself(prefect_harness, tmp_path):
    """A corrupt value with the gates off makes every validation loss infinite: the run ends
    Failed with no model registered, yet summary.json holds the diagnosis and report.html
    exists; `lstmflow report` rebuilds the report of the failed run."""
    import subprocess
    import sys

    import pandas as pd

    from flows.training import train_flow
    from lstmflow.config import load_config
    from tests.conftest import ROOT

    df = pd.read_csv(ROOT / "data" / "sample" / "co2_weekly.csv")
    df.loc[len(df) - 150, "co2"] = 1e30  # inside the validation part
    df.to_csv(tmp_path / "co2.csv", index=False)
    out = tmp_path / "out"
    cfg = load_config(ROOT / "configs" / "co2.yaml", [
        f"data.path={tmp_path / 'co2.csv'}", "quality.enabled=false", "model.loss=mse",
        "model.hidden_size=8", "model.num_layers=1", "training.max_steps=2",
        "training.val_check_steps=1", "training.window_stride=16", f"output_dir={out}"])
    state = train_flow(cfg, run_id="diverged", return_state=True)
    assert state.is_failed()
    assert state.message.startswith("training produced no finite validation loss")
    run_dir = out / "runs" / "diverged"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error_type"] == "TrainingError"
    top = summary["diagnosis"][0]
    assert (top["finding"], top["severity"]) == ("divergence", "error")
    assert "the validation loss was not finite at check 1 (step 1)" in top["evidence"]
    assert "the data explains it" in top["evidence"]
    assert top["remedy"]["overrides"] == ["quality.enabled=true", "model.loss=huber"]
    # a data problem: automatic repair (on by default) makes no pointless refit
    assert len(summary["attempts"]) == 1 and summary["repair"]["stopped"] == "no remedy"
    assert (run_dir / "report.html").is_file() and summary["report_path"]
    assert not (out / "registry").exists()
    (run_dir / "report.html").unlink()
    r = subprocess.run([sys.executable, "-m", "lstmflow.cli", "report", "diverged",
                        "--output-dir", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str((run_dir / "report.html").resolve())
    assert "The fit diverged" in (run_dir / "report.html").read_text()
