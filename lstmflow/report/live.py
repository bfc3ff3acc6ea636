"""The champion in service, as monitoring last saw it: its live error beside its error at
promotion, and the live error over time (for the run report and `lstmflow registry show`)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from lstmflow.report.page import img
from lstmflow.report.plots import _figure, to_png
from lstmflow.store.location import local_dir


def read_live(output_dir: str | Path, name: str) -> tuple[dict | None, list[dict]]:
    """monitor.json and the history lines of registry `name` (None, [] before any check)."""
    folder = local_dir(output_dir) / "monitor" / name
    record = json.loads((folder / "monitor.json").read_text()) \
        if (folder / "monitor.json").is_file() else None
    history = [json.loads(line) for line in (folder / "history.jsonl").read_text().splitlines()
               if line.strip()] if (folder / "history.jsonl").is_file() else []
    return record, history


def live_line(record: dict[str, Any] | None) -> str | None:
    """'champion X: live MAE over naive's a over n served points; b at promotion; degraded...'"""
    if not record or not record.get("champion"):
        return None
    live = ((record.get("live") or {}).get("overall") or {}).get("model") or {}
    then = (record.get("at_promotion") or {}).get("rel_mae")

    def num(v: Any) -> str:
        return "-" if v is None else f"{v:.4g}"

    verdict = f"degraded: {record['degraded_reason']}" if record.get("degraded") else \
        "not degraded"
    return (f"champion {record['champion']} in service: live MAE over naive's "
            f"{num(live.get('rel_mae'))} over {record.get('points', 0)} served points "
            f"(checked {record.get('checked_at')}), {num(then)} at promotion; {verdict}")


def live_plot(history: list[dict[str, Any]]) -> str | None:
    """The champion's live MAE over naive's at each check, its promotion-time figure dashed."""
    rows = [h for h in history if h.get("rel_mae") is not None]
    if len(rows) < 2:
        return None
    fig, ax = _figure(width=7.5, height=2.6)
    a = ax[0, 0]
    a.plot(range(len(rows)), [h["rel_mae"] for h in rows], marker="o", ms=3, label="live")
    a.plot(range(len(rows)), [h.get("at_promotion") for h in rows], ls="--", lw=1,
           label="at promotion")
    a.axhline(1.0, color="#999", lw=0.8, ls=":")
    a.set(xlabel="monitoring check", ylabel="MAE / naive MAE",
          title="The champion's live error (served forecasts against their actuals)")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    return to_png(fig)


def live_html(config: dict[str, Any] | None) -> str:
    """The section of a run report: nothing before the first monitoring check."""
    if not config:
        return ""
    record, history = read_live(config.get("output_dir", "."), config.get("name", ""))
    line = live_line(record)
    if not line:
        return ""
    return ("<h2>Champion in service</h2>" + f"<p>{escape(line)}</p>"
            + img(live_plot(history), "live error over time"))
