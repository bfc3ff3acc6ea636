"""report.html: one self-contained page per run (plots embedded as base64 PNG, no links out).

Diagnosis first, in plain words with the overrides to try; then the curves and forecasts behind
it, the metrics, the data gates and the config. Rebuilt from the run folder alone
(summary.json, history.json, forecasts.parquet), so `lstmflow report` works on any run.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lstmflow.durable import write_text
from lstmflow.fit.lr_find import LR_FIND
from lstmflow.report import plots
from lstmflow.report.interval_plots import calibration_html, coverage_by_step
from lstmflow.report.live import live_html
from lstmflow.report.page import img as _img
from lstmflow.report.page import page, sig
from lstmflow.report.page import table as _table
from lstmflow.report.summary import promotion_line, repair_line, segments_read, start_read
from lstmflow.runs import HISTORY, RUN_CONFIG

REPORT = "report.html"
FORECASTS = "forecasts.parquet"  # test forecasts of the series the report plots
REPORT_SERIES = 8  # series whose forecasts are plotted (and kept in forecasts.parquet)
MAX_SERIES_ROWS = 50  # per-series rows in the metrics table (a panel can hold thousands)
TITLES = {
    "divergence": "The fit diverged", "exploding_gradients": "Exploding gradients",
    "vanishing_gradients": "Vanishing gradients", "overfitting": "Overfitting",
    "underfitting": "Underfitting", "plateau": "The loss is on a plateau",
    "not_converged": "Not converged", "noisy_optimisation": "Noisy optimisation",
    "distribution_shift": "Distribution shift", "worse_than_baseline": "Worse than a baseline",
    "no_signal": "No signal to learn", "healthy": "Healthy fit",
    "linear_enough": "A linear model does as well",
    "flat_forecast": "The forecast is a flat line",
    "lagged_copy": "The forecast copies the last value",
    "short_context": "The window is shorter than the cycle",
}
# Findings about what the forecasts look like: the first one shows forecasts from a few origins.
SHAPE_FINDINGS = ("flat_forecast", "lagged_copy", "short_context")
PATHS_CAPTION = ("Forecasts from a few test origins of {sid}: actuals in black, the model's "
                 "forecast in blue, naive (the last value carried forward) and seasonal naive "
                 "dashed; the faint blue line is the model's one-step forecast before the origin.")
def diagnosis_html(findings: list[dict[str, Any]] | None, config_hint: str,
                   forecasts: pd.DataFrame | None = None) -> str:
    """The findings, worst first, each with its evidence, advice and the overrides to try;
    below the first finding about the forecasts' shape, the forecasts from a few origins."""
    if not findings:
        return ("<p class='muted'>No diagnosis: the run stopped before a model was trained "
                "(the reason is above).</p>")
    out, shown = [], ""
    for f in findings:
        rem = f.get("remedy") or {}
        sets = rem.get("overrides") or []
        cmd = ""
        if sets:
            flags = " ".join(f"--set {s}" for s in sets)
            cmd = (f"<p>Try: <code>{escape(flags)}</code><br><span class='muted'>e.g. "
                   f"<code>lstmflow train --config {escape(config_hint)} {escape(flags)}"
                   "</code></span></p>")
        out.append(
            f"<div class='finding {escape(f['severity'])}'><span class='sev'>"
            f"{escape(f['severity'])}</span><b>{escape(TITLES.get(f['finding'], f['finding']))}"
            f"</b> <code>{escape(f['finding'])}</code><p>{escape(f['evidence'])}.</p>"
            f"<p>{escape(rem.get('advice') or '')}</p>{cmd}</div>")
        if f["finding"] in SHAPE_FINDINGS and forecasts is not None and not shown:
            shown = _origin_paths(forecasts, (f.get("series") or [None])[0])
            out.append(shown)
    return "".join(out)


def _origin_paths(forecasts: pd.DataFrame, series: str | None) -> str:
    """The forecasts-from-origins figure of the series a finding names (else the first)."""
    if forecasts.empty:
        return _img(None, "forecasts from a few test origins")
    sid = series if series in set(forecasts["series_id"]) else str(forecasts["series_id"].iloc[0])
    return (_img(plots.origin_paths(forecasts, sid), "forecasts from a few test origins")
            + f"<p class='muted'>{escape(PATHS_CAPTION.format(sid=sid))}</p>")


def metrics_html(metrics: dict[str, Any] | None) -> str:
    """Overall and per-series errors of each method, rounded to 4 significant digits."""
    if not metrics or "model" not in metrics:
        return "<p class='muted'>The model was not evaluated.</p>"
    methods = [m for m in ("model", "naive", "seasonal_naive") if m in metrics]
    series = ["ALL", *list(metrics["model"].get("per_series", {}))[:MAX_SERIES_ROWS]]
    rows = []
    for s in series:
        for m in methods:
            v = metrics[m] if s == "ALL" else metrics[m]["per_series"][s]
            rows.append([s, m.replace("_", " "), v.get("mae"), v.get("rmse"), v.get("smape"),
                         v.get("mase"), v.get("rel_mae"), v.get("points")])
    more = len(metrics["model"].get("per_series", {})) + 1 - len(series)
    note = f"<p class='muted'>{more} more series in summary.json.</p>" if more > 0 else ""
    text = ("<p class='muted'>Original units, on the points every method covers. MASE: MAE over "
            f"the {escape(metrics.get('mase_scale') or 'in-sample naive MAE')}. rel MAE: MAE over "
            "naive's (ALL: geometric mean over series, the figure promotion uses).</p>")
    table = _table(["series", "method", "MAE", "RMSE", "sMAPE %", "MASE", "rel MAE", "points"],
                   rows)
    iv = metrics.get("intervals")
    if iv:
        table += (f"<p>Interval {sig(iv['levels'][0])}-{sig(iv['levels'][1])} (nominal "
                  f"coverage {sig(iv['nominal'])}): coverage {sig(iv['coverage'])}, mean width "
                  f"{sig(iv['width'])} (over the MASE scale: {sig(iv['width_scaled'])}).</p>")
    return text + table + blend_html(metrics.get("blend")) + note


def blend_html(blend: dict[str, Any] | None) -> str:
    """One paragraph on what the "model" row serves: the network alone or its blend with the
    baselines, weights per horizon step chosen on validation."""
    if not blend:
        return "<p>The model row is the network's forecast alone (no blend).</p>"
    steps = ", ".join(f"{sig(w[0])}" for w in blend["weights"])  # [H] model weights
    rule = blend.get("tolerance_se")
    unit = "standard error" if rule == 1 else "standard errors"
    why = (f"the least model weight within {sig(rule)} {unit} of the lowest validation "
           "MAE" if rule else "the lowest validation MAE")
    return (f"<p>The model row serves a blend per horizon step of the network, naive and seasonal "
            f"naive (season {blend['season']}), weights chosen on the validation split ({why}); "
            f"the network's weight per step: {escape(steps)}. On these points its MAE is "
            f"{sig(blend.get('mae'))}, the network alone {sig(blend.get('mae_model_alone'))}.</p>")


def gates_html(summary: dict[str, Any]) -> str:
    """Each data-quality gate: passed or not, and its failed and warned expectations."""
    out = []
    for key, name in (("gate", "ingested data"), ("input_gate", "model inputs")):
        g = summary.get(key)
        if not g:
            continue
        verdict = "passed" if g["success"] else "FAILED"
        out.append(f"<p><b>{escape(name)}</b>: {verdict}, {g['evaluated']} expectations, "
                   f"{len(g['failed'])} failed, {len(g['warnings'])} warnings.</p>")
        items = [["failed", r["suite"], r["column"] or "table", r["rule"], r["unexpected_count"]]
                 for r in g["failed"]]
        items += [["warning", r["suite"], r["column"] or "table", r["rule"],
                   r["unexpected_count"]] for r in g["warnings"]]
        if items:
            out.append(_table(["", "suite", "column", "rule", "unexpected"], items))
    return "".join(out) or "<p class='muted'>No data-quality gate ran.</p>"


def attempts_html(summary: dict[str, Any]) -> str:
    """Every automatic-repair attempt: what it changed, how it scored on validation and what
    its diagnosis found; the chosen one (the promoted model) marked."""
    attempts = summary.get("attempts")
    if not attempts:
        return ""
    block = summary.get("repair") or {}
    rows = [[f"{a['attempt']}{' (chosen)' if a.get('chosen') else ''}",
             " ".join(a["overrides"]) or "as configured", a.get("remedy_for") or "-",
             a.get("start") or "-", a.get("val_rel_mae"), a.get("val_loss"),
             ", ".join(f["finding"] for f in a["findings"] if f["severity"] != "info")
             or "healthy", a.get("secs")] for a in attempts]
    return ("<h2>Repair attempts</h2>"
            f"<p>{escape(repair_line(attempts, block))}</p>"
            + _table(["attempt", "overrides", "remedy for", "start", "val rel MAE", "val loss",
                      "validation findings", "s"], rows)
            + f"<p class='muted'>val rel MAE: {escape(block.get('score_means') or '')}; the "
            "choice never reads the test period. val loss is in each fit's scaled units. start: "
            "warm from the parent's trained weights, continued from its checkpoint, or cold "
            "(the remedy changed the network's shape).</p>")


def build_html(summary: dict[str, Any], history: list[dict[str, Any]],
               forecasts: pd.DataFrame | None, lr_find: dict[str, Any] | None = None) -> str:
    """The whole page as one string; `lr_find`: the learning-rate finder's curve, if it ran."""
    metrics = summary.get("metrics") or {}
    t = summary.get("training") or {}
    cfg = summary.get("config") or {}
    facts = []
    if t:
        steps = f"{t['steps_run']} steps, " if t.get("steps_run") is not None else ""
        facts.append(f"Trained {steps}{t.get('epochs_run')} validation checks in "
                     f"{sig(t.get('seconds'))} s; best val loss {sig(t.get('best_val_loss'))} at "
                     f"check {(t.get('best_epoch') or 0) + 1}{segments_read(t)}{start_read(t)}.")
    facts.append(promotion_line(summary))
    parts = [
        f"<h1>lstmflow run {escape(summary['run_id'])} <span class='status "
        f"{escape(summary['status'])}'>{escape(summary['status'])}</span></h1>",
        f"<p class='reason'>{escape(summary['reason'])}</p>" if summary.get("reason") else "",
        "".join(f"<p>{escape(x)}</p>" for x in facts),
        "<h2>Diagnosis</h2>",
        diagnosis_html(summary.get("diagnosis"),
                       str(Path(summary.get("run_dir") or ".") / RUN_CONFIG), forecasts),
        "".join(f"<p>warning: {escape(w)}</p>" for w in summary.get("warnings", [])),
        attempts_html(summary),
        _fit_sections(history, forecasts, metrics, lr_find),
        live_html(summary.get("config")),
        "<h2>Data gates</h2>", gates_html(summary),
        "<h2>Config used</h2>",
        f"<pre>{escape(yaml.safe_dump(cfg, sort_keys=False)) if cfg else '-'}</pre>",
        f"<p class='muted'>Run folder: {escape(str(summary.get('run_dir')))}; data fingerprint "
        f"{escape(str(summary.get('data_fingerprint')))}.</p>",
    ]
    return page("run", summary, parts)


def _fit_sections(history: list[dict[str, Any]], forecasts: pd.DataFrame | None,
                  metrics: dict[str, Any], lr_find: dict[str, Any] | None = None) -> str:
    """Curves, forecasts, errors by step and metrics; one line when no epoch was recorded."""
    if not history and forecasts is None and not metrics:
        return "<h2>Training</h2><p class='muted'>No model was trained in this run.</p>"
    return "".join([
        "<h2>Training curves</h2>", _img(plots.loss_and_lr(history), "loss and learning rate"),
        _img(plots.gradient_norms(history), "gradient norms per layer"),
        _img(plots.lr_finder(lr_find), "learning-rate finder") if lr_find else "",
        "<h2>Forecasts on the test period</h2>",
        _img(plots.forecasts(forecasts, REPORT_SERIES), "forecasts"),
        "<h2>Error by horizon step</h2>",
        _img(plots.horizon_errors(metrics.get("per_horizon") or {}), "error by horizon step"),
        _img(coverage_by_step(metrics.get("calibration")), "interval coverage by horizon step"),
        "<h2>Metrics</h2>", metrics_html(metrics), calibration_html(metrics.get("calibration")),
    ])


def read_run(run_dir: Path) -> tuple[dict, list, pd.DataFrame | None]:
    """summary.json, history.json (empty when training never recorded an epoch) and the
    forecasts (None when the model was not evaluated) of a run folder."""
    run_dir = Path(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return summary, *read_curves(run_dir)


def read_curves(run_dir: Path) -> tuple[list, pd.DataFrame | None]:
    """history.json and forecasts.parquet of a run folder (what summary.json does not hold)."""
    hist_path, fc_path = Path(run_dir) / HISTORY, Path(run_dir) / FORECASTS
    history = json.loads(hist_path.read_text(encoding="utf-8")) if hist_path.is_file() else []
    return history, (pd.read_parquet(fc_path) if fc_path.is_file() else None)


def write_report(run_dir: Path, summary: dict[str, Any] | None = None) -> Path:
    """Build report.html in the run folder from what it holds (`summary` when given instead
    of summary.json); returns its path."""
    run_dir = Path(run_dir)
    if summary is None:
        summary, history, forecasts = read_run(run_dir)
    else:
        history, forecasts = read_curves(run_dir)
    return write_text(run_dir / REPORT,
                      build_html(summary, history, forecasts, read_lr_find(run_dir, summary)))


def read_lr_find(run_dir: Path, summary: dict[str, Any]) -> dict[str, Any] | None:
    """The learning-rate finder's result of the promoted fit: the chosen repair attempt's own
    search when it made one, else the run's (None when the rate was not searched)."""
    chosen = (summary.get("repair") or {}).get("chosen")
    paths = [Path(run_dir) / "attempts" / str(chosen) / LR_FIND] if chosen else []
    for path in [*paths, Path(run_dir) / LR_FIND]:
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None
