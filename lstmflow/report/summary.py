"""The run summary: one JSON document (summary.json) and its human renderings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmflow.fit.evaluate import METHODS
from lstmflow.runs import write_json


def metrics_block(metrics: dict[str, Any]) -> dict[str, Any]:
    """Reshape evaluation output to {method: {mae, rmse, points, per_series: {sid: {mae, rmse}}}}."""
    out: dict[str, Any] = {}
    overall = metrics.get("overall") or {}
    for m in METHODS:
        if m not in overall:
            continue
        out[m] = {
            **overall[m],
            "per_series": {s: v[m] for s, v in metrics.get("per_series", {}).items()},
        }
    return out


def gate_block(gate: dict[str, Any] | None) -> dict[str, Any] | None:
    if gate is None:
        return None
    keep = ("suite", "column", "rule", "severity", "unexpected_count", "examples", "error")
    return {
        "success": gate["success"],
        "evaluated": gate["evaluated"],
        "failed": [{k: r[k] for k in keep} for r in gate["failed"]],
        "warnings": [{k: r[k] for k in keep} for r in gate["warnings"]],
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> Path:
    """summary.json in the run folder, written atomically."""
    return write_json(run_dir / "summary.json", summary)


def metrics_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per series (and 'ALL'): MAE and RMSE of each method."""
    m = summary.get("metrics") or {}
    if "model" not in m:
        return []
    series = ["ALL", *m["model"]["per_series"]]
    rows = []
    rel_snaive = m["model"].get("rel_mae_vs_seasonal_naive")
    for s in series:
        row: dict[str, Any] = {"series": s}
        for meth in METHODS:
            v = m[meth] if s == "ALL" else m[meth]["per_series"][s]
            row[f"{meth}_mae"] = round(v["mae"], 6)
            row[f"{meth}_rmse"] = round(v["rmse"], 6)
            mase, rel = v.get("mase"), v.get("rel_mae")
            row[f"{meth}_mase"] = round(mase, 6) if mase is not None and mase == mase else None
            row[f"{meth}_rel_mae"] = round(rel, 6) if rel is not None else None
        if s == "ALL" and rel_snaive is not None:
            row["model_rel_snaive"] = round(rel_snaive, 6)
        rows.append(row)
    return rows


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def _beats(row: dict[str, Any]) -> bool:
    """A series row: model MAE below both baselines'. ALL: the scale-free promotion rule."""
    if row["series"] == "ALL" and row.get("model_rel_mae") is not None \
            and row.get("model_rel_snaive") is not None:
        return bool(row["model_rel_mae"] < 1 and row["model_rel_snaive"] < 1)
    return row["model_mae"] < min(row["naive_mae"], row["seasonal_naive_mae"])


def render_text(summary: dict[str, Any]) -> str:
    """The short terminal summary: status, reason, metrics next to the baselines."""
    lines = [f"run {summary['run_id']}: {summary['status'].upper()}"]
    if summary.get("reason"):
        lines.append(f"  {summary['reason']}")
    for w in summary.get("warnings", []):
        lines.append(f"  warning: {w}")
    rows = metrics_rows(summary)
    if rows:
        lines.append("")
        lines.append(f"  {'series':<12}{'model MAE':>12}{'naive MAE':>12}{'s-naive MAE':>13}"
                     f"{'model/naive':>13}  beats both")
        for r in rows:
            lines.append(
                f"  {str(r['series'])[:12]:<12}{r['model_mae']:>12.4f}{r['naive_mae']:>12.4f}"
                f"{r['seasonal_naive_mae']:>13.4f}{_num(r['model_rel_mae']):>13}"
                f"  {'yes' if _beats(r) else 'no'}"
            )
        lines.append("  ALL: MAE pooled over all points; model/naive is the geometric mean of the "
                     "series' MAE ratios,")
        lines.append("  the scale-free figure promotion uses (each series counts once).")
    if summary.get("promotion"):
        p = summary["promotion"]
        lines.append("")
        lines.append(f"  model: {summary.get('model_path')}")
        lines.append(f"  {'promoted to champion' if p['promoted'] else 'not promoted'}: {p['reason']}")
    lines.append(f"  run folder: {summary.get('run_dir')}")
    return "\n".join(lines)


def render_markdown(summary: dict[str, Any]) -> str:
    """The Prefect artifact: same facts as the terminal summary, as a markdown page."""
    lines = [f"# Run {summary['run_id']}: {summary['status']}", ""]
    if summary.get("reason"):
        lines += [f"**{summary['reason']}**", ""]
    for w in summary.get("warnings", []):
        lines.append(f"- warning: {w}")
    rows = metrics_rows(summary)
    if rows:
        lines += ["", "| series | model MAE | naive MAE | seasonal-naive MAE | model RMSE | "
                      "model/naive MAE | model MASE |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['series']} | {r['model_mae']:.4f} | {r['naive_mae']:.4f} | "
                         f"{r['seasonal_naive_mae']:.4f} | {r['model_rmse']:.4f} | "
                         f"{_num(r['model_rel_mae'])} | {_num(r['model_mase'])} |")
    t = summary.get("training")
    if t:
        steps = f"{t['steps_run']} steps, " if t.get("steps_run") is not None else ""
        lines += ["", f"Trained {steps}{t['epochs_run']} validation checks in {t['seconds']:.1f}s; "
                      f"best validation loss {t['best_val_loss']:.4f} at check {t['best_epoch'] + 1}."]
        if t.get("learning_rate") is not None:
            auto = (summary.get("config") or {}).get("training", {}).get("learning_rate") == "auto"
            found = " (found by the learning-rate finder: lr_find.json)" if auto else ""
            lines.append(f"Learning rate {t['learning_rate']:.3g}{found}.")
    if summary.get("promotion"):
        p = summary["promotion"]
        lines += ["", f"Promotion: {'yes' if p['promoted'] else 'no'}: {p['reason']}"]
    lines += ["", f"Data fingerprint `{summary.get('data_fingerprint')}`; run folder "
                  f"`{summary.get('run_dir')}`."]
    return "\n".join(lines)
