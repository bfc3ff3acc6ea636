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
    raw["training"]["max_steps"] = 4  # one validation check
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
    raw["training"]["max_steps"] = 8  # a changed config trains without force
    assert train_flow(build_config(raw), run_id="changed", return_state=True).is_completed()
    assert champion(root)["version"] == "changed"
    assert [e["version"] for e in read_history(root)] == ["first", "forced", "changed"]


def test_a_rejected_version_of_the_same_data_and_config_is_not_trained_again(
        prefect_harness, sample_slice, tmp_path):
    """No champion (the sample's random walk is rarely promoted; here promote: never): the
    newest version has this data and config, so a retrain would make the same model and is
    skipped, saying which version and how it was kept."""
    from flows.training import train_flow

    out = tmp_path / "out"
    raw = small_config_dict(sample_slice, out, registry={"promote": "never"})
    raw["training"]["max_steps"] = 4
    cfg = build_config(raw)
    assert train_flow(cfg, run_id="kept", return_state=True).is_completed()
    assert champion(out / "registry" / cfg.name) is None
    summary = train_flow(cfg, run_id="again")
    assert summary["skipped"] is True and "training" not in summary
    assert summary["promotion_reason"].startswith("nothing changed since version kept (kept as "
                                                  "candidate: registry.promote is 'never'")
