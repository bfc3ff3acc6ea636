"""The report and the summaries people read: rounding, markdown, rebuilding from a run folder."""

from __future__ import annotations

import json
from html import escape

import pytest

from lstmflow.config import ConfigError
from lstmflow.report.html import build_html, sig
from lstmflow.report.rebuild import rebuild_report
from lstmflow.report.summary import (
    metrics_block,
    metrics_from_block,
    render_markdown,
    render_text,
    write_summary,
)


def test_numbers_are_rounded_to_four_significant_digits():
    assert [sig(v) for v in (0.123456, 1234.5678, 0.000123456, 12345678.0, 0, None)] == \
        ["0.1235", "1235", "0.0001235", "12350000", "0", "-"]
    assert sig(3.2e-9) == "3.200e-09" and sig(float("nan")) == "nan" and sig("AAPL") == "AAPL"


FINDING = {"finding": "divergence", "severity": "error",
           "evidence": "the train loss reached 13.26 in epoch 1",
           "remedy": {"advice": "Lower the learning rate.",
                      "overrides": ["training.learning_rate=0.1"]}}
METRICS = {
    "overall": {"model": {"mae": 1.23456789, "rmse": 2.0, "smape": 3.0, "mase": 0.5,
                          "rel_mae": 0.91234567, "rel_mae_vs_seasonal_naive": 0.8, "points": 9},
                "naive": {"mae": 1.3535353, "rmse": 2.1, "smape": 3.1, "mase": 0.55,
                          "rel_mae": 1.0, "points": 9},
                "seasonal_naive": {"mae": 1.5, "rmse": 2.2, "smape": 3.2, "mase": 0.6,
                                   "rel_mae": 1.1, "points": 9}},
    "per_series": {"a": {m: {"mae": 1.0 + i, "rmse": 2.0, "smape": 3.0, "mase": 0.5,
                             "rel_mae": 1.0, "points": 9}
                         for i, m in enumerate(("model", "naive", "seasonal_naive"))}},
    "per_horizon": {m: [{"mae": 1.0, "mase": 0.5}] for m in ("model", "naive", "seasonal_naive")},
    "mase_scale": "in-sample seasonal-naive MAE",
}


def test_metrics_block_round_trips():
    assert metrics_from_block(metrics_block(METRICS)) == METRICS


def test_markdown_puts_the_diagnosis_first_and_a_failure_reason_verbatim():
    summary = {"run_id": "r", "status": "failed", "run_dir": "/x", "warnings": [],
               "reason": "data-quality gate 'ingested' failed (2 of 17 expectations):\n"
                         "  - [ingested] column 'value': max_gap_steps <= 5 failed",
               "diagnosis": [FINDING], "metrics": metrics_block(METRICS)}
    md = render_markdown(summary)
    assert "**" not in md
    assert "```text\ndata-quality gate 'ingested' failed" in md
    assert md.index("## Diagnosis") < md.index("## Test metrics")
    assert "- ERROR `divergence`: the train loss reached 13.26 in epoch 1." in md
    assert "Try `--set training.learning_rate=0.1`" in md
    assert "| ALL | 1.235 | 1.354 | 1.5 | 0.9123 | 0.8 | 0.5 | 3 |" in md


@pytest.mark.parametrize(("fields", "line"), [
    ({"promoted": True, "promotion_reason": "beats naive, seasonal naive and champion v1 by 3%",
      "promotion": {"promoted": True, "status": "champion"}},
     "Promoted to champion: beats naive, seasonal naive and champion v1 by 3%"),
    ({"promoted": False, "promotion_reason": "new MAE / champion MAE 0.99 > 0.98 (margin 2%)",
      "promotion": {"promoted": False, "status": "rejected"}},
     "Not promoted (kept as rejected): new MAE / champion MAE 0.99 > 0.98 (margin 2%)"),
    ({"skipped": True, "promoted": False, "promotion_reason": "nothing changed since champion v1"},
     "Skipped: nothing changed since champion v1"),
])
def test_the_terminal_the_prefect_summary_and_the_report_say_the_promotion_in_one_line(
        fields, line):
    summary = {"run_id": "r", "status": "completed", "run_dir": "/x", "warnings": [], **fields}
    assert f"\n{line}\n" in render_markdown(summary)
    assert f"\n  {line}\n" in render_text(summary)
    assert f"<p>{escape(line)}</p>" in build_html(summary, [], None)


def test_a_run_that_stopped_before_registration_says_so(tmp_path):
    from lstmflow.records.run import RunSummary

    summary = RunSummary(run_id="r", status="failed", run_dir=str(tmp_path), warnings=[])
    written = json.loads(write_summary(tmp_path, summary).read_text())
    assert written["promoted"] is False
    assert written["promotion_reason"] == "the run ended failed before registration"
    assert "Not promoted: the run ended failed before registration" in render_markdown(written)


def test_report_without_curves_or_forecasts_still_renders():
    html = build_html({"run_id": "r", "status": "failed", "diagnosis": [FINDING]}, [], None)
    assert "The fit diverged" in html and "No model was trained in this run" in html
    assert "<img" not in html


def _run_folder(tmp_path, summary: dict | None, history: list[dict]):
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"name": "x", "model": {"hidden_size": 8}}))
    (run / "history.json").write_text(json.dumps(history))
    if summary is not None:
        (run / "summary.json").write_text(json.dumps(summary))
    return run


HISTORY = [{"epoch": 0, "train_loss": 0.5, "val_loss": 0.5, "nonfinite_losses": 0},
           {"epoch": 1, "train_loss": None, "val_loss": None, "nonfinite_losses": 12}]


def test_rebuild_diagnoses_a_run_that_stopped_before_its_diagnosis(tmp_path):
    run = _run_folder(tmp_path, {"run_id": "r1", "status": "error", "run_dir": "x",
                                 "reason": "KeyboardInterrupt"}, HISTORY)
    before = (run / "summary.json").read_text()
    html = rebuild_report(run).read_text()
    assert "12 training batches had a non-finite loss (first in epoch 2)" in html
    assert (run / "summary.json").read_text() == before  # the command writes the report only


def test_rebuild_reports_a_killed_run_from_its_config_and_history(tmp_path):
    run = _run_folder(tmp_path, None, HISTORY)
    html = rebuild_report(run).read_text()
    assert "interrupted" in html and "hidden_size: 8" in html and "<img" in html
    assert not (run / "summary.json").exists()  # the command writes the report only


def test_rebuild_refuses_a_folder_with_nothing_to_report(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        rebuild_report(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"neither summary\.json nor config\.json"):
        rebuild_report(tmp_path / "empty")


def test_the_metrics_say_whether_the_model_row_is_a_blend_and_its_weights():
    from lstmflow.report.html import metrics_html

    blend = {"parts": ["model", "naive", "seasonal_naive"], "season": 24, "tolerance_se": 1.0,
             "weights": [[1.0, 0.0, 0.0], [0.3, 0.7, 0.0]], "mae": 1.5, "mae_model_alone": 1.75}
    page = metrics_html({**metrics_block(METRICS), "blend": blend})
    assert "weight per step: 1, 0.3." in page and "the network alone 1.75" in page
    assert "within 1 standard error of" in page
    assert "forecast alone (no blend)" in metrics_html(metrics_block(METRICS))
