"""A scheduled run that would retrain the champion on the same data with the same config ends
early, Completed, with that reason and no training; `force` trains anyway (real flow runs)."""

from __future__ import annotations

import json

from lstmflow.config import build_config
from lstmflow.serve.history import read_history
from lstmflow.serve.registry import champion
from tests.conftest import small_config_dict


def test_unchanged_data_and_config_skip_training_until_forced(prefect_harness, sample_slice,
                                                             tmp_path):
    from flows.training import train_flow

    out = tmp_path / "out"
    raw = small_config_dict(sample_slice, out, registry={"promote": "always"})
    raw["training"]["max_epochs"] = 1
    cfg = build_config(raw)
    root = out / "registry" / cfg.name
    assert train_flow(cfg, run_id="first", return_state=True).is_completed()
    assert champion(root)["version"] == "first"

    moved = build_config({**raw, "runtime": {"torch_threads": 1}})  # where it runs: not a change
    state = train_flow(moved, run_id="same", return_state=True)
    assert state.is_completed(), state.message
    summary = json.loads((out / "runs" / "same" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["skipped"] is True
    assert summary["promoted"] is False
    assert summary["promotion_reason"].startswith("nothing changed since champion first: same "
                                                  f"data (fingerprint {summary['data_fingerprint']})")
    assert "training" not in summary and "metrics" not in summary
    assert not (out / "runs" / "same" / "checkpoints").exists()
    assert "Skipped: nothing changed" in (out / "runs" / "same" / "report.html").read_text()
    assert [v.name for v in (root / "versions").iterdir()] == ["first"]

    state = train_flow(cfg, run_id="forced", force=True, return_state=True)
    assert state.is_completed(), state.message
    assert champion(root)["version"] == "forced"
    raw["training"]["max_epochs"] = 2  # a changed config trains without force
    assert train_flow(build_config(raw), run_id="changed", return_state=True).is_completed()
    assert champion(root)["version"] == "changed"
    assert [e["version"] for e in read_history(root)] == ["first", "forced", "changed"]
