"""Building blocks of the self-contained report pages (run, backtest, tune): the stylesheet,
the page frame with its status badge, tables, embedded images and number formatting."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
.status{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff;font-weight:600}
.completed{background:#2e7d32}.failed,.error{background:#c62828}.running{background:#777}
.finding{border-left:6px solid #999;background:#fafafa;padding:.6em 1em;margin:.8em 0}
.finding.error{border-color:#c62828;background:#fdecea}.finding.warning{border-color:#ef6c00;
background:#fff4e5}.finding.info{border-color:#1565c0;background:#e8f1fb}
.sev{font-size:.75em;text-transform:uppercase;font-weight:700;margin-right:.5em}
code,pre{background:#f0f0f0;border-radius:.2em;padding:.1em .3em;font-size:.9em}
pre{padding:.8em;overflow-x:auto}table{border-collapse:collapse;font-size:.9em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}th{background:#f5f5f5}
td:first-child,th:first-child,td.l{text-align:left}img{max-width:100%}.muted{color:#666}
.reason{white-space:pre-wrap}
"""


def sig(v: Any, digits: int = 4) -> str:
    """A number rounded to `digits` significant digits, written without an exponent when it
    fits (1e-4 to 1e9); text and None pass through."""
    if v is None:
        return "-"
    if isinstance(v, bool) or not isinstance(v, int | float | np.floating | np.integer):
        return str(v)
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    if v == 0 or 1e-4 <= abs(v) < 1e9:
        return np.format_float_positional(float(f"{v:.{digits}g}"), trim="-")
    return f"{v:.{digits - 1}e}"


def page_top(kind: str, summary: dict[str, Any], facts: list[str]) -> str:
    """Title with the status badge, the reason it stopped, facts and warnings (run pages)."""
    return "".join([
        f"<h1>lstmflow {kind} {escape(summary['run_id'])} <span class='status "
        f"{escape(summary['status'])}'>{escape(summary['status'])}</span></h1>",
        f"<p class='reason'>{escape(summary['reason'])}</p>" if summary.get("reason") else "",
        "".join(f"<p>{escape(x)}</p>" for x in facts),
        "".join(f"<p>warning: {escape(w)}</p>" for w in summary.get("warnings", [])),
    ])


def page(kind: str, summary: dict[str, Any], parts: list[str]) -> str:
    """A whole self-contained page."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>lstmflow {kind} "
            f"{escape(summary['run_id'])}</title><style>{CSS}</style></head><body>"
            + "".join(parts) + "</body></html>")


def img(b64: str | None, alt: str) -> str:
    """An embedded PNG, or a line saying what has no data."""
    if not b64:
        return f"<p class='muted'>No data for: {escape(alt)}.</p>"
    return f"<img alt='{escape(alt)}' src='data:image/png;base64,{b64}'>"


def _cell(v: Any) -> str:
    """Numbers right-aligned, rounded; text left-aligned."""
    number = isinstance(v, int | float | np.floating | np.integer) and not isinstance(v, bool)
    return f"<td>{escape(sig(v))}</td>" if number else f"<td class='l'>{escape(sig(v))}</td>"


def table(header: list[str], rows: list[list[Any]]) -> str:
    """An HTML table of `rows` under `header`."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
