"""The calibrated intervals in the report: coverage by horizon step against each nominal level
(beside the error-by-step plot), and the metrics table of each level."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from lstmflow.report.plots import _figure, to_png
from lstmflow.report.summary import sig

LEVEL_COLORS = ("#1f77b4", "#9467bd", "#2ca02c", "#d62728")


def coverage_by_step(calibration: dict[str, Any] | None) -> str | None:
    """One line per level: the share of test actuals inside the interval at each horizon
    step, its nominal level dashed."""
    levels = (calibration or {}).get("levels") or {}
    if not levels:
        return None
    fig, ax = _figure(width=7.5)
    a = ax[0, 0]
    for (name, v), color in zip(levels.items(), LEVEL_COLORS * 4, strict=False):
        y = np.array([np.nan if not s else s["coverage"] for s in v["per_horizon"]])
        x = np.arange(1, len(y) + 1)
        a.plot(x, y, color=color, marker="o", ms=3, label=f"{name}% interval")
        a.axhline(v["nominal"], color=color, ls="--", lw=0.9)
    from matplotlib.ticker import MaxNLocator

    a.xaxis.set_major_locator(MaxNLocator(integer=True))
    a.set(xlabel="horizon step", ylabel="coverage", ylim=(0, 1.02),
          title="Interval coverage by horizon step (test points; dashed: nominal)")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    return to_png(fig)


def calibration_html(calibration: dict[str, Any] | None) -> str:
    """A sentence on how the intervals were made, and per level: nominal and test coverage,
    mean width and interval score."""
    levels = (calibration or {}).get("levels") or {}
    if not levels:
        return ""
    method = {"split_conformal": "split conformal on the model's validation errors",
              "cqr": "conformalised quantile regression (the network's quantile band, "
                     "corrected by its validation errors)"}.get(calibration.get("method"),
                                                                 calibration.get("method"))
    rows = "".join(
        f"<tr><td>{escape(name)}%</td><td>{sig(v['coverage'])}</td><td>{sig(v['width'])}</td>"
        f"<td>{sig(v.get('width_scaled'))}</td><td>{sig(v['interval_score'])}</td>"
        f"<td>{v['points']}</td></tr>" for name, v in levels.items())
    return (f"<p>Prediction intervals: {escape(str(method))}, per horizon step, scaled per "
            "series by its in-sample seasonal-naive MAE. On the test points:</p>"
            "<table><tr><th>interval</th><th>coverage</th><th>mean width</th>"
            "<th>width / MASE scale</th><th>interval score</th><th>points</th></tr>"
            f"{rows}</table>")
