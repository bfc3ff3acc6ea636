"""A refused run changes nothing: through the real flow (one Prefect harness per session), every
bad input ends `Failed` with its specific message, the registry is untouched, and the output
folder holds exactly what the failure-folder rule says (nothing, or only the gate's report)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lstmflow.config import build_config
from tests.fixtures.cases import CASES, FIXTURES, fixture_config

GATE_REPORT = {"summary.json", "report.html", "gate-ingested.csv", "data_docs"}


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes: equal trees mean nothing was written or changed."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def out(tmp_path) -> Path:
    """An output folder whose registry already holds a champion, as after earlier runs."""
    root = tmp_path / "out"
    champion = root / "registry" / "fx" / "champion.json"
    champion.parent.mkdir(parents=True)
    champion.write_text('{"version": "earlier", "path": "versions/earlier"}', encoding="utf-8")
    return root


def _run(cfg_dict: dict, run_id: str):
    from flows.training import train_flow

    return train_flow(build_config(cfg_dict), run_id=run_id, return_state=True)


@pytest.mark.parametrize(("file", "sections", "stage", "pattern"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_fails_the_flow_and_changes_nothing(prefect_harness, out, file, sections, stage,
                                                      pattern):
    before = _tree(out)
    state = _run(fixture_config(FIXTURES / file, out, **sections), "bad")
    assert state.is_failed()
    assert re.search(pattern, state.message), state.message
    run_dir = out / "runs" / "bad"
    if stage == "ingest":  # refused before anything was kept: not even a run folder
        assert _tree(out) == before
        assert not (out / "runs").exists()
        return
    assert state.message.startswith("data-quality gate 'ingested' failed (")
    assert {p.name for p in run_dir.iterdir()} == GATE_REPORT
    assert {k: v for k, v in _tree(out).items() if not k.startswith("runs/")} == before
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["reason"] == state.message
    docs = Path(summary["gate"]["data_docs"])
    assert docs == run_dir / "data_docs" / "ingested" / "index.html" and docs.is_file()
    assert f"report: {docs}" in state.message
    assert "model_path" not in summary and "training" not in summary


def test_failed_input_gate_keeps_both_reports_but_no_snapshot_or_model(prefect_harness, out):
    before = _tree(out)
    cfg = fixture_config(FIXTURES / "healthy.csv", out, quality={"max_scaled_abs": 0.5})
    state = _run(cfg, "inputs")
    assert state.is_failed()
    assert state.message.startswith("data-quality gate 'model-inputs' failed (")
    assert re.search(r"\[model-inputs\] column 'z': scaled magnitude <= 0\.5 failed, \d+ of \d+ rows "
                     r"unexpected, e\.g\. a @ 2020-", state.message), state.message
    run_dir = out / "runs" / "inputs"
    assert {p.name for p in run_dir.iterdir()} == GATE_REPORT | {"gate-model-inputs.csv"}
    assert {p.name for p in (run_dir / "data_docs").iterdir()} == {"ingested", "model-inputs"}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["gate"]["success"] is True and summary["input_gate"]["success"] is False
    assert Path(summary["input_gate"]["data_docs"]).is_file()
    html = (run_dir / "data_docs" / "model-inputs" / "index.html").read_text(encoding="utf-8")
    assert "model-inputs" in html
    assert {k: v for k, v in _tree(out).items() if not k.startswith("runs/")} == before
