"""Across folds: mean and spread of every error measure, and how often the model beats each
baseline; the per-fold table the artifact and the terminal show (plain; no Prefect)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmflow.fit.evaluate import METHODS
from lstmflow.report.summary import sig

BACKTEST = "backtest.json"
MEASURES = ("mae", "rmse", "smape", "mase", "rel_mae")
BASELINES = ("naive", "seasonal_naive")


def spread(values: list[float]) -> dict[str, Any]:
    """Mean, sample standard deviation (0 for one value), min and max of the finite values."""
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype="float64")
    if not len(v):
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0}
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "n": len(v)}


def across_folds(records: list[dict[str, Any]]) -> dict[str, Any]:
    """{completed, folds, metrics: {method: {measure: spread}}, beats: {baseline: share}}; the
    shares count the completed folds."""
    done = [r for r in records if r["status"] == "completed" and r.get("metrics")]
    metrics: dict[str, dict[str, Any]] = {}
    for m in METHODS:
        metrics[m] = {k: spread([r["metrics"][m].get(k) for r in done]) for k in MEASURES}
    metrics["model"]["rel_mae_vs_seasonal_naive"] = spread(
        [r["metrics"]["model"].get("rel_mae_vs_seasonal_naive") for r in done])
    wins = {b: sum(r["beats"][b] for r in done) for b in BASELINES}
    wins["both"] = sum(all(r["beats"].values()) for r in done)
    out = {
        "folds": len(records), "completed": len(done),
        "failed": [r["fold"] for r in records if r["status"] != "completed"],
        "metrics": metrics,
        "beats": {b: (w / len(done) if done else None) for b, w in wins.items()},
        "wins": wins,
        "fold_seconds": spread([r.get("seconds") for r in records]),
    }
    if intervals := interval_spread(done):
        out["intervals"] = intervals
    return out


def fold_levels(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A fold's calibrated intervals by level name ({} without intervals)."""
    return (((record.get("metrics") or {}).get("calibration") or {}).get("levels")) or {}


def interval_spread(done: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Per interval level: nominal, and the spread over folds of the test coverage, the scaled
    width and the scaled interval score (None when no fold has intervals)."""
    names = sorted({n for r in done for n in fold_levels(r)}, key=float)
    return {name: {"nominal": float(name) / 100, **{
        k: spread([fold_levels(r).get(name, {}).get(k) for r in done])
        for k in ("coverage", "width_scaled", "interval_score_scaled")}}
        for name in names} or None


def headline(record: dict[str, Any]) -> str:
    """The fold's outcome in a few words: its worst findings, or why it failed."""
    if record["status"] != "completed":
        return f"failed: {record.get('reason', '')}"
    findings = record.get("diagnosis") or []
    if not findings:
        return "-"
    worst = findings[0]["severity"]
    return ", ".join(f["finding"] for f in findings if f["severity"] == worst)


def fold_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per fold, then mean and std rows: model and baseline MAE, the model's MAE relative
    to each baseline, MASE, what the diagnosis found; 4 significant digits."""
    rows = []
    for r in summary.get("folds") or []:
        m = r.get("metrics") or {}
        model = m.get("model") or {}
        rows.append({
            "fold": r["fold"], "cutoff": r.get("cutoff"), "train_rows": r.get("train_rows"),
            **{f"{k}_mae": sig((m.get(k) or {}).get("mae")) for k in METHODS},
            "model_rel_naive": sig(model.get("rel_mae")),
            "model_rel_snaive": sig(model.get("rel_mae_vs_seasonal_naive")),
            "model_mase": sig(model.get("mase")),
            **{f"coverage_{n}": sig(v.get("coverage")) for n, v in fold_levels(r).items()},
            "diagnosis": headline(r)[:120],
            "seconds": r.get("seconds"),
        })
    agg = (summary.get("across") or {}).get("metrics")
    if agg and rows:
        for stat in ("mean", "std"):
            rows.append({
                "fold": stat, "cutoff": "", "train_rows": None,
                **{f"{k}_mae": sig(agg[k]["mae"][stat]) for k in METHODS},
                "model_rel_naive": sig(agg["model"]["rel_mae"][stat]),
                "model_rel_snaive": sig(agg["model"]["rel_mae_vs_seasonal_naive"][stat]),
                "model_mase": sig(agg["model"]["mase"][stat]),
                **{f"coverage_{n}": sig(v["coverage"][stat]) for n, v in
                   (summary["across"].get("intervals") or {}).items()},
                "diagnosis": "",
                "seconds": sig(summary["across"]["fold_seconds"][stat]),
            })
    return rows


def _num(v: Any) -> str:
    return "-" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))


def render_text(summary: dict[str, Any]) -> str:
    """The terminal summary: status, one line per fold, the mean and spread, the win shares."""
    lines = [f"backtest {summary['run_id']}: {summary['status'].upper()}"]
    if summary.get("reason"):
        lines.append(f"  {summary['reason']}")
    for w in summary.get("warnings", []):
        lines.append(f"  warning: {w}")
    rows = fold_rows(summary)
    if rows:
        lines += ["", f"  {'fold':<6}{'cut-off':<12}{'model MAE':>11}{'naive MAE':>11}"
                      f"{'s-naive MAE':>12}{'model/naive':>12}{'model/s-naive':>14}{'secs':>8}"
                      "  diagnosis"]
        for r in rows:
            lines.append(
                f"  {r['fold']!s:<6}{r['cutoff'] or '':<12}{_num(r['model_mae']):>11}"
                f"{_num(r['naive_mae']):>11}{_num(r['seasonal_naive_mae']):>12}"
                f"{_num(r['model_rel_naive']):>12}{_num(r['model_rel_snaive']):>14}"
                f"{_num(r['seconds']):>8}  {r['diagnosis']}")
    across = summary.get("across")
    if across and across["completed"]:
        w, n = across["wins"], across["completed"]
        lines += ["", f"  model beats naive in {w['naive']} of {n} folds, seasonal naive in "
                      f"{w['seasonal_naive']} of {n}, both in {w['both']} of {n}"]
        for name, v in (across.get("intervals") or {}).items():
            c = v["coverage"]
            lines.append(f"  {name}% interval: test coverage {_num(c['mean'])} on average over "
                         f"folds ({_num(c['min'])} to {_num(c['max'])}), nominal {_num(v['nominal'])}")
    if summary.get("seconds") is not None:
        lines.append(f"  wall {summary['seconds']:.1f}s on {summary.get('fan_out', {}).get('text')}")
    for key, what in (("report_path", "report"), ("run_dir", "run folder")):
        if summary.get(key):
            lines.append(f"  {what}: {summary[key]}")
    return "\n".join(lines)
