"""Monitoring (lstmflow monitor): served forecasts scored as actuals arrive, against naive and
seasonal naive on the same points, checked against an independent recomputation; the
degradation rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from expectations.report import ingested_gate
from lstmflow.config import build_config
from lstmflow.data.ingest import ingest
from lstmflow.serve.monitor import check, degradation, keep, monitor_dir
from lstmflow.serve.predict import run_prediction
from tests.conftest import register_version, small_config_dict


@pytest.fixture(scope="module")
def served(sample_slice, tmp_path_factory):
    """A champion, and two predictions made from the data as it stood 12 and 7 rows before its
    end (each a file in predictions/), then the full data as the actuals that arrived."""
    out = tmp_path_factory.mktemp("monitor")
    raw = pd.read_csv(sample_slice)
    cfg = build_config(small_config_dict(sample_slice, out, registry={"promote": "always"}))
    register_version(cfg, "v1", seed=1)
    for cut in (12, 7):
        part = raw.groupby("Ticker").head(raw.groupby("Ticker").size().min() - cut)
        path = out / f"cut{cut}.csv"
        part.to_csv(path, index=False)
        run_prediction(cfg.model_copy(update={"data": cfg.data.model_copy(
            update={"path": str(path)})}), None, ingested_gate)
    return cfg, ingest(cfg.data).frame


def recompute(cfg, actuals: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per series, MAE of the forecast, naive and seasonal naive over the arrived points, by
    plain loops over the forecast files and the canonical frame (no code of the monitor)."""
    import json
    from pathlib import Path

    season = cfg.evaluation.season
    errs: dict[str, dict[str, list[float]]] = {}
    for record in sorted((Path(cfg.output_dir) / "predictions" / cfg.name).glob("*/*.json")):
        table = pd.read_parquet(json.loads(record.read_text())["out"])
        for sid, rows in table.groupby("series_id"):
            series = actuals[actuals["series_id"] == sid].reset_index(drop=True)
            times = list(series["timestamp"])
            first = rows["timestamp"].min()
            origin = max(i for i, t in enumerate(times) if t < first)
            level = series["target"].tolist()
            naive = next(level[i] for i in range(origin, -1, -1) if not math.isnan(level[i]))
            for h, (_, row) in enumerate(rows.sort_values("timestamp").iterrows(), start=1):
                if row["timestamp"] not in times:
                    continue
                actual = level[times.index(row["timestamp"])]
                back = season * math.ceil(h / season)
                snaive = level[origin + h - back]
                if any(math.isnan(v) for v in (actual, snaive)):
                    continue
                e = errs.setdefault(sid, {"model": [], "naive": [], "seasonal_naive": []})
                e["model"].append(abs(row["forecast"] - actual))
                e["naive"].append(abs(naive - actual))
                e["seasonal_naive"].append(abs(snaive - actual))
    return {s: {m: float(np.mean(v)) for m, v in e.items()} for s, e in errs.items()}


def test_live_errors_agree_with_an_independent_recomputation(served):
    cfg, actuals = served
    record = check(cfg, actuals, "fp")
    assert record.champion == "v1" and record.predictions_read == 2
    expected = recompute(cfg, actuals)
    per = record.live["per_series"]
    assert set(per) == set(expected) == {"AAPL", "MSFT"}
    for sid, methods in expected.items():
        for m, mae in methods.items():
            assert per[sid][m]["mae"] == pytest.approx(mae, rel=1e-12)
    assert record.points == sum(per[s]["model"]["points"] for s in per) > 0
    rel = np.exp(np.mean([np.log(e["model"] / e["naive"]) for e in expected.values()]))
    assert record.live["overall"]["model"]["rel_mae"] == pytest.approx(rel, rel=1e-12)
    assert record.versions["v1"].points == record.points
    assert record.at_promotion["mae"] == 1.0  # the figures register_version recorded


def test_the_record_and_its_history_are_kept(served):
    cfg, actuals = served
    keep(check(cfg, actuals), cfg.output_dir)
    keep(check(cfg, actuals), cfg.output_dir)
    folder = monitor_dir(cfg.output_dir, cfg.name)
    assert (folder / "monitor.json").is_file()
    assert len((folder / "history.jsonl").read_text().splitlines()) == 2


def test_degradation_needs_enough_points_and_a_real_loss():
    assert degradation(0.9, 0.8, 49, 50, 0.2) is None  # too few points to judge
    assert "worse than the 0.8" in degradation(0.97, 0.8, 60, 50, 0.2)  # 21% worse
    assert degradation(0.95, 0.8, 60, 50, 0.2) is None  # 19%: within tolerance
    assert "no better than the random walk" in degradation(1.1, None, 60, 50, 0.2)


def test_the_report_and_registry_show_set_the_live_error_beside_promotion(served, capsys):
    from lstmflow.cli import main
    from lstmflow.report.html import build_html

    cfg, actuals = served
    keep(check(cfg, actuals), cfg.output_dir)  # at least two checks: a line to draw
    keep(check(cfg, actuals), cfg.output_dir)
    page = build_html({"run_id": "r", "status": "completed",
                       "config": cfg.model_dump(mode="json")}, [], None)
    assert "<h2>Champion in service</h2>" in page and "champion v1 in service: live MAE" in page
    assert "alt='live error over time'" in page
    assert main(["registry", "show", "v1", "--output-dir", cfg.output_dir]) == 0
    assert "champion v1 in service: live MAE over naive's" in capsys.readouterr().out
