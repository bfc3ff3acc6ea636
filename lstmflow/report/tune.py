"""tune.html and the terminal summary of a tune run: the optimisation history, parameter
importances, why trials were pruned, every trial's params (matplotlib, self-contained page)."""

from __future__ import annotations

import math
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from lstmflow.durable import write_text
from lstmflow.report import plots
from lstmflow.report.page import img as _img
from lstmflow.report.page import page, page_top, sig
from lstmflow.report.page import table as _table

TUNE_REPORT = "tune.html"
MIN_IMPORTANCE_TRIALS = 5  # completed trials before importances say more than noise


def importances(study: Any) -> tuple[dict[str, float] | None, str]:
    """Optuna's fANOVA parameter importances over the completed trials, or None and why not."""
    import optuna

    done = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(done) < MIN_IMPORTANCE_TRIALS:
        return None, (f"too few completed trials for parameter importances ({len(done)}; "
                      f"they need at least {MIN_IMPORTANCE_TRIALS}): run more trials")
    try:
        imp = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError) as exc:
        return None, f"parameter importances could not be computed: {exc}"
    return {k: float(v) for k, v in imp.items()}, (
        f"fANOVA importances (optuna.importance) over {len(done)} completed trials")


def pruned_reasons(trials: list[dict[str, Any]]) -> dict[str, int]:
    """Pruned (and failed) trials counted by finding: median, divergence, plateau, ..."""
    return dict(Counter(t.get("finding") or ("error" if t["state"] == "fail" else "median")
                        for t in trials if t["state"] in ("pruned", "fail")))


def history_png(trials: list[dict[str, Any]]) -> str | None:
    """Each trial's validation error (pruned ones at their last report) and the best so far."""
    done = [t for t in trials if t["state"] == "complete" and t["value"] is not None]
    if not done:
        return None
    fig, axes = plots._figure(height=3.2)
    ax = axes[0][0]
    n = np.array([t["number"] for t in done])
    v = np.array([t["value"] for t in done])
    ax.plot(n, v, "o", color="#1f77b4", label="completed")
    best = np.minimum.accumulate(v)
    ax.step(n, best, where="post", color="#d62728", label="best so far")
    pr = [t for t in trials if t["state"] == "pruned" and t.get("last_report") is not None
          and math.isfinite(t["last_report"])]
    if pr:
        ax.plot([t["number"] for t in pr], [t["last_report"] for t in pr], "x", color="#7f7f7f",
                label="pruned (last report)")
    ax.axhline(1.0, color="#999", lw=0.8, ls="--", label="naive")
    lo, hi = float(np.nanmin(v)), float(np.nanpercentile(v, 90))
    ax.set_ylim(lo - 0.05 * (hi - lo + 1e-9), max(hi, 1.0) + 0.05 * (hi - lo + 1e-9))
    ax.set_xlabel("trial")
    ax.set_ylabel("val MAE / naive MAE")
    ax.legend(fontsize=8, loc="upper right")
    return plots.to_png(fig)


def importance_png(imp: dict[str, float] | None) -> str | None:
    if not imp:
        return None
    names = list(imp)[::-1]
    fig, axes = plots._figure(height=0.3 * len(names) + 1.2)
    ax = axes[0][0]
    ax.barh(names, [imp[k] for k in names], color="#1f77b4")
    ax.set_xlabel("importance (share of the variance of the validation error)")
    fig.subplots_adjust(left=0.2)
    return plots.to_png(fig)


def _params(p: dict[str, Any]) -> str:
    return ", ".join(f"{k}={sig(v, 3)}" for k, v in p.items())


def trial_rows(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The artifact table: one row per trial, 4 significant digits."""
    return [{"trial": t["number"], "state": t["state"], "value": sig(t["value"]),
             "params": _params(t["params"]), "reason": (t.get("reason") or "")[:160],
             "seconds": t.get("wall_seconds")} for t in trials]


def build_tune_html(summary: dict[str, Any]) -> str:
    trials = summary.get("trials") or []
    best = summary.get("best")
    mine = set(summary.get("this_run") or [])
    counts = Counter(t["state"] for t in trials)
    facts = [f"Study '{summary.get('study')}' in {summary.get('storage')}: {len(trials)} trials "
             f"stored ({summary.get('stored_before', 0)} before this run); "
             + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + "."]
    if summary.get("fan_out"):
        facts.append(f"Trials ran on the {summary['fan_out']['text']}.")
    if summary.get("seconds") is not None:
        facts.append(f"Wall time {sig(summary['seconds'])} s.")
    imp = summary.get("importances")
    pruned = [t for t in trials if t["state"] in ("pruned", "fail")]
    parts = [
        page_top("tune", summary, facts),
        "<h2>Best trial</h2>",
        (f"<p>Trial {best['number']}: validation MAE / naive MAE {escape(sig(best['value']))}"
         f"; {escape(_params(best['params']))}. Config: "
         f"<code>{escape(str(summary.get('best_yaml')))}</code> "
         "(<code>lstmflow train --config</code> it).</p>") if best else
        "<p class='muted'>No trial completed: no best.yaml.</p>",
        "<h2>Optimisation history</h2>",
        "<p class='muted'>Objective: the validation MAE in original units over naive's "
        "(geometric mean over series; below 1 beats naive). The test part is never read.</p>",
        _img(history_png(trials), "optimisation history"),
        "<h2>Parameter importances</h2>", f"<p>{escape(summary.get('importance_note', ''))}</p>",
        _img(importance_png(imp), "parameter importances") if imp else "",
        "<h2>Pruned and failed trials</h2>",
        "<p>" + escape(", ".join(f"{k}: {n}" for k, n in pruned_reasons(trials).items())
                       or "none") + "</p>",
        _table(["trial", "state", "finding", "reason"],
               [[t["number"], t["state"], t.get("finding") or "-", t.get("reason") or "-"]
                for t in pruned]) if pruned else "",
        "<h2>Trials</h2>",
        _table(["trial", "this run", "state", "value", "params", "seconds"],
               [[t["number"], "yes" if t["number"] in mine else "", t["state"], t["value"],
                 _params(t["params"]), t.get("wall_seconds")] for t in trials]),
        "<h2>Config searched from</h2>",
        f"<pre>{escape(yaml.safe_dump(summary.get('config') or {}, sort_keys=False))}</pre>",
    ]
    return page("tune", summary, parts)


def write_tune_report(run_dir: Path, summary: dict[str, Any]) -> Path:
    return write_text(Path(run_dir) / TUNE_REPORT, build_tune_html(summary))


def render_text(summary: dict[str, Any]) -> str:
    """The terminal summary: status, best trial, pruned counts, where the files are."""
    trials = summary.get("trials") or []
    lines = [f"tune {summary['run_id']}: {summary['status'].upper()}"]
    if summary.get("reason"):
        lines.append(f"  {summary['reason']}")
    for w in summary.get("warnings", []):
        lines.append(f"  warning: {w}")
    mine = set(summary.get("this_run") or [])
    if trials:
        counts = Counter(t["state"] for t in trials if t["number"] in mine)
        lines.append(f"  study '{summary['study']}': {len(trials)} trials stored, {len(mine)} "
                     f"this run ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))})")
        reasons = pruned_reasons([t for t in trials if t["number"] in mine])
        if reasons:
            lines.append("  pruned or failed: " + ", ".join(f"{k} {n}" for k, n in reasons.items()))
    best = summary.get("best")
    if best:
        lines.append(f"  best: trial {best['number']}, val MAE / naive {best['value']:.4g} "
                     f"({_params(best['params'])})")
    if summary.get("seconds") is not None:
        lines.append(f"  wall {summary['seconds']:.1f}s")
    for key, what in (("best_yaml", "best config"), ("report_path", "report"),
                      ("run_dir", "run folder")):
        if summary.get(key):
            lines.append(f"  {what}: {summary[key]}")
    return "\n".join(lines)
