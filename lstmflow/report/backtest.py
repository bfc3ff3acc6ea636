"""backtest.html: one self-contained page per backtest, in the style of report.html.

How the model did across the folds first (mean and spread, wins against each baseline), then
the error of every method by fold, the table of folds, forecasts against actuals per fold and
each fold's diagnosis. Rebuilt from the run folder alone (backtest.json, folds/<k>/).
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from lstmflow.backtest.results import BACKTEST, MEASURES, fold_rows, headline
from lstmflow.durable import write_text
from lstmflow.records.backtest import BacktestSummary
from lstmflow.report import plots
from lstmflow.report.html import diagnosis_html, gates_html
from lstmflow.report.page import img as _img
from lstmflow.report.page import page, page_top, sig
from lstmflow.report.page import table as _table
from lstmflow.runs import RUN_CONFIG

BACKTEST_REPORT = "backtest.html"
FOLD_FORECASTS = "forecasts.parquet"
MEASURE_NAMES = {"mae": "MAE", "rmse": "RMSE", "smape": "sMAPE %", "mase": "MASE",
                 "rel_mae": "rel MAE (vs naive)"}


def fold_dir(run_dir: Path, fold: int) -> Path:
    """Where fold k keeps its curves and forecasts: `<run_dir>/folds/<k>`."""
    return Path(run_dir) / "folds" / str(fold)


def fold_errors(records: list[dict[str, Any]]) -> str | None:
    """Left: each method's MASE (MAE when no MASE) by fold; right: the model's MAE over each
    baseline's by fold (below 1: the model wins that fold)."""
    done = [r for r in records if r.get("metrics")]
    if not done:
        return None
    measure = "mase" if all(r["metrics"]["model"].get("mase") is not None for r in done) else "mae"
    x = np.array([r["fold"] for r in done])
    fig, ax = plots._figure(1, 2, width=11, height=3.2)
    left, right = ax[0, 0], ax[0, 1]
    for m in ("naive", "seasonal_naive", "model"):
        y = [r["metrics"][m].get(measure) for r in done]
        left.plot(x, np.array(y, dtype=float), color=plots.COLORS[m], marker="o", ms=4,
                  ls="-" if m == "model" else "--", label=plots.LABELS[m])
    left.set(xlabel="fold (cut-off)", ylabel=measure.upper(),
             title=f"{measure.upper()} on each fold's test window")
    for key, base in (("rel_mae", "naive"), ("rel_mae_vs_seasonal_naive", "seasonal_naive")):
        y = [r["metrics"]["model"].get(key) for r in done]
        right.plot(x, np.array(y, dtype=float), color=plots.COLORS[base], marker="o", ms=4,
                   label=f"model / {plots.LABELS[base]}")
    right.axhline(1.0, color="#444", lw=0.8, ls=":")
    right.set(xlabel="fold (cut-off)", ylabel="MAE ratio (geometric mean over series)",
              title="Model MAE relative to each baseline (< 1: model wins)")
    labels = [f"{r['fold']}\n{r.get('cutoff', '')}" for r in done]
    for a in (left, right):
        a.set_xticks(x, labels)
        a.tick_params(labelsize=7)
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    return plots.to_png(fig)


def across_html(across: dict[str, Any] | None) -> str:
    """Mean, spread and range of every measure over the completed folds, and the win shares."""
    if not across or not across["completed"]:
        return "<p class='muted'>No fold completed.</p>"
    rows = []
    for m in ("model", "naive", "seasonal_naive"):
        for k in MEASURES:
            s = across["metrics"][m][k]
            rows.append([m.replace("_", " "), MEASURE_NAMES[k], s["mean"], s["std"], s["min"],
                         s["max"]])
    s = across["metrics"]["model"]["rel_mae_vs_seasonal_naive"]
    rows.append(["model", "rel MAE (vs seasonal naive)", s["mean"], s["std"], s["min"], s["max"]])
    for name, v in (across.get("intervals") or {}).items():  # the calibrated intervals
        for k, what in (("coverage", f"coverage (nominal {v['nominal']:g})"),
                        ("width_scaled", "width / MASE scale"),
                        ("interval_score_scaled", "interval score / MASE scale")):
            s = v[k]
            rows.append([f"{name}% interval", what, s["mean"], s["std"], s["min"], s["max"]])
    w, n = across["wins"], across["completed"]
    wins = (f"<p>Over {n} completed fold{'s' if n != 1 else ''}: the model beats naive in "
            f"<b>{w['naive']}</b>, seasonal naive in <b>{w['seasonal_naive']}</b>, both in "
            f"<b>{w['both']}</b> (relative MAE below 1, the figure promotion uses).</p>")
    return wins + _table(["method", "measure", "mean", "std", "min", "max"], rows) + (
        "<p class='muted'>std: sample standard deviation over folds. Original units, on the "
        "points every method covers in each fold.</p>")


def folds_html(summary: dict[str, Any]) -> str:
    rows = fold_rows(summary)
    if not rows:
        return "<p class='muted'>No fold ran.</p>"
    keys = ["fold", "cutoff", "train_rows", "model_mae", "naive_mae", "seasonal_naive_mae",
            "model_rel_naive", "model_rel_snaive", "model_mase", "seconds", "diagnosis"]
    head = ["fold", "cut-off", "train rows", "model MAE", "naive MAE", "s-naive MAE",
            "model / naive", "model / s-naive", "model MASE", "seconds", "diagnosis"]
    return _table(head, [[r[k] for k in keys] for r in rows])


def fold_sections(summary: dict[str, Any], forecasts: dict[int, pd.DataFrame | None]) -> str:
    """Per fold: forecasts against actuals on its test window, then its diagnosis (folded)."""
    hint = str(Path(summary.get("run_dir") or ".") / RUN_CONFIG)
    out = []
    for r in summary.get("folds") or []:
        k = r["fold"]
        title = (f"Fold {k}: cut-off {r.get('cutoff')}, test {r.get('test_start')} to "
                 f"{r.get('test_end')}, {r.get('train_rows', '-')} training rows")
        out.append(f"<h3>{escape(title)}</h3>")
        if r["status"] != "completed":
            out.append(f"<p class='reason'>{escape(headline(r))}</p>")
        out.append(_img(plots.forecasts(forecasts.get(k), 4), f"fold {k} forecasts"))
        gate = r.get("input_gate")
        gate_line = ("" if not gate else f"<p>Model-input gate: {'passed' if gate['success'] else 'FAILED'}, "
                     f"{gate['evaluated']} expectations, {len(gate['failed'])} failed.</p>")
        out.append(f"<details><summary>Diagnosis: {escape(headline(r))}</summary>{gate_line}"
                   f"{diagnosis_html(r.get('diagnosis'), hint)}</details>")
    return "".join(out)


def build_backtest_html(summary: dict[str, Any],
                        forecasts: dict[int, pd.DataFrame | None]) -> str:
    """The whole page as one string."""
    cfg = summary.get("config") or {}
    b = cfg.get("backtest") or {}
    fan = summary.get("fan_out") or {}
    facts = [f"{len(summary.get('folds') or [])} folds, cut-offs {summary.get('step')} steps "
             f"apart, {b.get('window', 'expanding')} window; {fan.get('text', '')}."]
    if summary.get("seconds") is not None:
        facts.append(f"Wall time {sig(summary['seconds'])} s, of which folds "
                     f"{sig(summary.get('folds_seconds'))} s (sum of fold times "
                     f"{sig(sum(r.get('seconds') or 0 for r in summary.get('folds') or []))} s).")
    parts = [
        page_top("backtest", summary, facts),
        "<h2>Across folds</h2>", across_html(summary.get("across")),
        "<h2>Error by fold</h2>", _img(fold_errors(summary.get("folds") or []), "error by fold"),
        "<h2>Folds</h2>", folds_html(summary),
        "<h2>Forecasts and diagnosis per fold</h2>",
        "<p class='muted'>One step ahead on each fold's test window; each fold was refit on its "
        "rows up to its cut-off only.</p>", fold_sections(summary, forecasts),
        "<h2>Data gate</h2>", gates_html(summary),
        "<h2>Config used</h2>",
        f"<pre>{escape(yaml.safe_dump(cfg, sort_keys=False)) if cfg else '-'}</pre>",
        f"<p class='muted'>Run folder: {escape(str(summary.get('run_dir')))}; data fingerprint "
        f"{escape(str(summary.get('data_fingerprint')))}.</p>",
    ]
    return page("backtest", summary, parts)


def read_fold_forecasts(run_dir: Path, summary: dict[str, Any]) -> dict[int, pd.DataFrame | None]:
    out = {}
    for r in summary.get("folds") or []:
        path = fold_dir(run_dir, r["fold"]) / FOLD_FORECASTS
        out[r["fold"]] = pd.read_parquet(path) if path.is_file() else None
    return out


def write_backtest_report(run_dir: Path, summary: dict[str, Any] | None = None) -> Path:
    """Build backtest.html in the run folder from what it holds (`summary`, the record's JSON,
    when given instead of backtest.json, read through its record); returns its path."""
    run_dir = Path(run_dir)
    if summary is None:
        summary = BacktestSummary.read(run_dir / BACKTEST).to_json()
    html = build_backtest_html(summary, read_fold_forecasts(run_dir, summary))
    return write_text(run_dir / BACKTEST_REPORT, html)

