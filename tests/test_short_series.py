"""A series too short to train on is left out and said once in the run summary (the gate's
history warning and the drop notice used to say it twice)."""

from __future__ import annotations

import json

import pandas as pd

from lstmflow.config import build_config
from tests.fixtures.cases import FIXTURES, fixture_config


def test_short_series_is_reported_once(prefect_harness, tmp_path):
    from flows.training import train_flow

    healthy = pd.read_csv(FIXTURES / "healthy.csv")
    short = healthy.head(20).assign(series="b")
    data = tmp_path / "two.csv"
    pd.concat([healthy, short]).to_csv(data, index=False)
    cfg = build_config(fixture_config(data, tmp_path / "out"))
    state = train_flow(cfg, run_id="short", return_state=True)
    assert state.is_completed(), state.message
    summary = json.loads((tmp_path / "out" / "runs" / "short" / "summary.json").read_text())
    about_b = [w for w in summary["warnings"] if "'b'" in w or " b:" in w or "e.g. b" in w]
    assert about_b == ["series 'b' left out: 20 rows < 30 needed"]
    rules = [r["rule"] for r in summary["gate"]["warnings"]]
    assert len(rules) == 1 and rules[0].startswith("enough history per series")  # still in the gate
