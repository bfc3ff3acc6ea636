"""The run summary: one JSON document (summary.json) and its human renderings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lstmflow.fit.evaluate import METHODS
from lstmflow.records.run import RunSummary

EXTRA = ("per_horizon", "intervals", "calibration", "mase_scale", "shape", "blend")  # kept as is


def metrics_block(metrics: dict[str, Any]) -> dict[str, Any]:
    """Reshape evaluation output to {method: {mae, rmse, smape, mase, rel_mae, points,
    per_series: {sid: {...}}}, per_horizon: {method: [{...} per step]}, intervals, mase_scale,
    shape: {sid: {...}}}."""
    out: dict[str, Any] = {}
    overall = metrics.get("overall") or {}
    for m in METHODS:
        if m not in overall:
            continue
        out[m] = {
            **overall[m],
            "per_series": {s: v[m] for s, v in metrics.get("per_series", {}).items()},
        }
    for key in EXTRA:
        if metrics.get(key):
            out[key] = metrics[key]
    return out


def metrics_from_block(block: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `metrics_block`: evaluation output as `evaluate` returns it."""
    overall = {m: {k: v for k, v in block[m].items() if k != "per_series"}
               for m in METHODS if m in block}
    series = list(block["model"]["per_series"]) if "model" in block else []
    per_series = {s: {m: block[m]["per_series"][s] for m in overall} for s in series}
    rest = {k: block[k] for k in EXTRA if k in block}
    return {"overall": overall, "per_series": per_series, **rest}


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


def write_summary(run_dir: Path, summary: RunSummary) -> Path:
    """summary.json in the run folder, written atomically from the run's record; `promoted`
    and `promotion_reason` are always there (a run that stopped before registration promoted
    nothing)."""
    if summary.promoted is None:
        summary.update(promoted=False, promotion_reason=(
            f"the run ended {summary.status} before registration"
            if summary.status != "running" else "not registered yet"))
    return summary.write(Path(run_dir) / "summary.json")


def read_summary(path: Path) -> dict[str, Any]:
    """summary.json read back through its record (any lstmflow's: unknown keys are kept)."""
    return RunSummary.read(path).to_json()


def promotion_line(summary: dict[str, Any]) -> str:
    """What became of the model, in one line (terminal, Prefect artifact, report.html)."""
    p = summary.get("promotion") or {}  # what a summary written before `promoted` existed holds
    reason = summary.get("promotion_reason") or p.get("reason") or "not registered"
    if summary.get("skipped"):
        return f"Skipped: {reason}"
    if summary.get("promoted", p.get("promoted")):
        return f"Promoted to champion: {reason}"
    status = p.get("status")
    return f"Not promoted{f' (kept as {status})' if status else ''}: {reason}"


def sig(v: float | None, digits: int = 4) -> float | None:
    """A float rounded to `digits` significant digits (None stays None)."""
    if v is None or v != v:
        return None
    return float(f"{v:.{digits}g}")


def segments_read(training: dict[str, Any]) -> str:
    """How the LSTM read its window, for the training sentence (nothing for old summaries)."""
    p = training.get("segment_len")
    if p is None:
        return ""
    return "; the LSTM read its input step by step" if p == 1 else \
        f"; the LSTM read its input in {p}-step segments (model.segment_len)"


def start_read(training: dict[str, Any]) -> str:
    """How the network started, for the training sentence (nothing for old summaries)."""
    if not training.get("start"):
        return ""
    if training["start"] == "warm":
        return (f"; warm start {training.get('start_reason')} (validation MAE over naive's "
                f"{sig(training.get('warm_val_rel_mae'))} against the champion's "
                f"{sig(training.get('champion_val_rel_mae'))})")
    return f"; cold start: {training.get('start_reason')}"


def metrics_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per series (and 'ALL'): MAE of each method, the model's MAE relative to both
    baselines, MASE and sMAPE; 4 significant digits."""
    m = summary.get("metrics") or {}
    if "model" not in m:
        return []
    rows = []
    for s in ["ALL", *m["model"]["per_series"]]:
        v = {meth: m[meth] if s == "ALL" else m[meth]["per_series"][s] for meth in METHODS}
        snaive = v["seasonal_naive"]["mae"]
        rel_s = m["model"].get("rel_mae_vs_seasonal_naive") if s == "ALL" else (
            v["model"]["mae"] / snaive if snaive > 0 else None)
        rows.append({
            "series": s, **{f"{meth}_mae": sig(v[meth]["mae"]) for meth in METHODS},
            "model_rel_mae": sig(v["model"].get("rel_mae")), "model_rel_snaive": sig(rel_s),
            "model_mase": sig(v["model"].get("mase")), "model_smape": sig(v["model"].get("smape")),
        })
    return rows


STOPPED = {"healthy": "the last attempt is healthy on validation",
           "rounds": "the repair rounds (training.auto_repair) are used up",
           "no remedy": "no untried remedy a refit can apply is left (a remedy that only "
                        "lengthens the fit needs the time to run past it)",
           "time": "the time left for refits (training.repair_time_factor x the first fit, at "
                   "least a minute, within training.max_time_minutes) is too short for another"}


def repair_line(attempts: list[dict[str, Any]], block: dict[str, Any]) -> str:
    """What automatic repair did, in one line, from summary.json's `attempts` and `repair`."""
    n, first, score = len(attempts), attempts[0], block["score"]
    why = STOPPED.get(block["stopped"], block["stopped"])
    if block.get("skipped"):
        why += "; " + "; ".join(block["skipped"])
    if block["chosen"] is None:
        return f"auto-repair: none of {n} attempts produced a usable model ({why})"
    if n == 1:
        return f"auto-repair: no refit ({why})"
    best = attempts[block["chosen"]]
    problems = [f["finding"] for f in first["findings"] if f["severity"] in ("error", "warning")]
    if block["chosen"] == 0:
        others = [a[score] for a in attempts[1:] if a[score] is not None]
        return (f"auto-repair: kept the first fit ({score} {_num(first[score])}): none of "
                f"{n - 1} refit(s) beat it on validation (best "
                f"{_num(min(others) if others else None)}; {why})")
    return (f"auto-repair: chose attempt {block['chosen']} of {n} "
            f"({' '.join(best['overrides'])}, the remedy for {best['remedy_for']}): {score} "
            f"{_num(best[score])} against {_num(first[score])} for the first fit"
            + (f" ({', '.join(problems)})" if problems else ""))


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _beats(row: dict[str, Any]) -> bool:
    """Model MAE below both baselines' (ALL: the scale-free promotion rule, relative MAEs)."""
    if row.get("model_rel_mae") is not None and row.get("model_rel_snaive") is not None:
        return bool(row["model_rel_mae"] < 1 and row["model_rel_snaive"] < 1)
    return row["model_mae"] < min(row["naive_mae"], row["seasonal_naive_mae"])


def _overrides(f: dict[str, Any]) -> str:
    return " ".join(f"--set {o}" for o in f["remedy"]["overrides"])


def render_text(summary: dict[str, Any]) -> str:
    """The short terminal summary: status, reason, diagnosis, metrics next to the baselines."""
    lines = [f"run {summary['run_id']}: {summary['status'].upper()}"]
    if summary.get("reason"):
        lines.append(f"  {summary['reason']}")
    for f in summary.get("diagnosis") or []:
        lines.append(f"  {f['severity'].upper()} {f['finding']}: {f['evidence']}")
        if f["remedy"]["overrides"]:
            lines.append(f"      try: {_overrides(f)}")
    if summary.get("attempts"):
        lines.append(f"  {repair_line(summary['attempts'], summary['repair'])}")
    if start := start_read(summary.get("training") or {}):
        lines.append(f"  {start.removeprefix('; ')}")
    for w in summary.get("warnings", []):
        lines.append(f"  warning: {w}")
    rows = metrics_rows(summary)
    if rows:
        lines.append("")
        lines.append(f"  {'series':<12}{'model MAE':>12}{'naive MAE':>12}{'s-naive MAE':>13}"
                     f"{'model/naive':>13}  beats both")
        for r in rows:
            lines.append(
                f"  {str(r['series'])[:12]:<12}{_num(r['model_mae']):>12}{_num(r['naive_mae']):>12}"
                f"{_num(r['seasonal_naive_mae']):>13}{_num(r['model_rel_mae']):>13}"
                f"  {'yes' if _beats(r) else 'no'}"
            )
        lines.append("  ALL: MAE pooled over all points; model/naive is the geometric mean of the "
                     "series' MAE ratios, the scale-free figure promotion uses (each series counts "
                     "once).")  # one line: the terminal wraps it
    lines.append("")
    if summary.get("model_path"):
        lines.append(f"  model: {summary['model_path']}")
    lines.append(f"  {promotion_line(summary)}")
    if summary.get("report_path"):
        lines.append(f"  report: {summary['report_path']}")
    lines.append(f"  run folder: {summary.get('run_dir')}")
    return "\n".join(lines)


def render_markdown(summary: dict[str, Any]) -> str:
    """The Prefect artifact: the diagnosis first, then a rounded metrics table."""
    lines = [f"# Run {summary['run_id']}: {summary['status']}", "", promotion_line(summary), ""]
    if summary.get("reason"):  # may span lines (a gate's failed expectations): kept verbatim
        lines += ["## Why it stopped", "", "```text", summary["reason"], "```", ""]
    diagnosis = summary.get("diagnosis") or []
    if diagnosis:
        lines += ["## Diagnosis", ""]
        for f in diagnosis:
            lines.append(f"- {f['severity'].upper()} `{f['finding']}`: {f['evidence']}. "
                         f"{f['remedy']['advice']}")
            if f["remedy"]["overrides"]:
                lines.append(f"  Try `{_overrides(f)}`")
        lines.append("")
    if summary.get("attempts"):
        lines += [repair_line(summary["attempts"], summary["repair"]), ""]
    for w in summary.get("warnings", []):
        lines.append(f"- warning: {w}")
    rows = metrics_rows(summary)
    if rows:
        lines += ["", "## Test metrics (original units)", "",
                  "| series | model MAE | naive MAE | seasonal-naive MAE | model / naive | "
                  "model / seasonal naive | model MASE | model sMAPE % |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['series']} | {_num(r['model_mae'])} | {_num(r['naive_mae'])} | "
                         f"{_num(r['seasonal_naive_mae'])} | {_num(r['model_rel_mae'])} | "
                         f"{_num(r['model_rel_snaive'])} | {_num(r['model_mase'])} | "
                         f"{_num(r['model_smape'])} |")
        lines.append("")
    t = summary.get("training")
    if t:
        steps = f"{t['steps_run']} steps, " if t.get("steps_run") is not None else ""
        lines += [f"Trained {steps}{t['epochs_run']} validation checks in {t['seconds']:.1f}s; "
                  f"best validation loss {t['best_val_loss']:.4g} at check {t['best_epoch'] + 1}"
                  f"{segments_read(t)}{start_read(t)}."]
        if t.get("learning_rate") is not None:
            auto = (summary.get("config") or {}).get("training", {}).get("learning_rate") == "auto"
            found = " (found by the learning-rate finder: lr_find.json)" if auto else ""
            lines.append(f"Learning rate {t['learning_rate']:.3g}{found}.")
        lines.append("")
    if summary.get("report_path"):
        lines += [f"Report with plots: `{summary['report_path']}`", ""]
    lines += [f"Data fingerprint `{summary.get('data_fingerprint')}`; run folder "
              f"`{summary.get('run_dir')}`."]
    return "\n".join(lines)
