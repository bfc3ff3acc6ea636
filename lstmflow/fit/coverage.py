"""How well the calibrated intervals held on scored points: coverage, width and the interval
(Winkler) score per level, overall, per series and per horizon step (plain functions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmflow.fit.intervals import interval_score


def _band_points(fcs: Sequence[Any], name: str, step: int | None = None
                 ) -> dict[str, np.ndarray]:
    """Actual, lower, upper and scale of the scored points of band `name` (one step or all)."""
    cols = slice(None) if step is None else slice(step, step + 1)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("actual", "lower", "upper", "scale")}
    for f in fcs:
        lo, hi = f.bands[name]
        ok = f.ok[:, cols] & np.isfinite(lo[:, cols]) & np.isfinite(hi[:, cols])
        parts["actual"].append(f.actual[:, cols][ok])
        parts["lower"].append(lo[:, cols][ok])
        parts["upper"].append(hi[:, cols][ok])
        parts["scale"].append(np.full(int(ok.sum()), f.scale))
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}


def band_scores(p: dict[str, np.ndarray], level: float) -> dict[str, Any] | None:
    """Coverage, mean width and mean interval score (original units, and over the MASE scale so
    a panel pools) of one band on its points; None without points."""
    n = len(p["actual"])
    if not n:
        return None
    inside = (p["actual"] >= p["lower"]) & (p["actual"] <= p["upper"])
    width = p["upper"] - p["lower"]
    score = interval_score(p["actual"], p["lower"], p["upper"], level)
    has = np.isfinite(p["scale"]) & (p["scale"] > 0)
    return {"coverage": float(inside.mean()), "width": float(width.mean()),
            "interval_score": float(score.mean()),
            "width_scaled": float(np.mean(width[has] / p["scale"][has])) if has.any() else None,
            "interval_score_scaled": float(np.mean(score[has] / p["scale"][has]))
            if has.any() else None,
            "points": int(n)}


def calibration(fcs: Sequence[Any], horizon: int, method: str | None = None
                ) -> dict[str, Any] | None:
    """{method, levels: {'80': {nominal, coverage, width, interval_score, ..., per_series,
    per_horizon}}} for every band the forecasts carry; None when they carry none."""
    names = sorted({n for f in fcs for n in f.bands}, key=float)
    if not names:
        return None
    levels = {}
    for name in names:
        level = float(name) / 100
        overall = band_scores(_band_points(fcs, name), level)
        if overall is None:
            continue
        levels[name] = {
            "nominal": level, **overall,
            "per_series": {f.series_id: band_scores(_band_points([f], name), level)
                           for f in fcs},
            "per_horizon": [band_scores(_band_points(fcs, name, h), level)
                            for h in range(horizon)],
        }
    return {"method": method, "levels": levels} if levels else None
