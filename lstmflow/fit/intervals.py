"""Conformal prediction intervals: split conformal per horizon step on the validation period's
errors in original units (plain functions).

Each horizon step gets its own quantile of the nonconformity scores: for a point forecast
|y - f| / s, for the network's quantile band (CQR, Romano et al. 2019) max(lo - y, y - hi) / s,
where s is the series' in-sample seasonal-naive MAE (the MASE scale, fitted on its training
part), so series of different units share one set of quantiles. The level-`a` quantile is the
ceil((n + 1) a)-th smallest of n scores (the finite-sample correction of split conformal).

The scores are those of the forecast that is served (the blend applied, as predict serves it),
on validation origins only: the fitted quantiles live in the model's state
(`state["intervals"]`) and are applied wherever forecasts become levels
(lstmflow.fit.evaluate.model_levels), exactly like the blend. Because the scores are errors of
level forecasts at each step, a diff or log-return target needs no cumulation of per-step
quantiles: the band at step h is calibrated on step-h level errors directly. The blend is also
chosen on validation, so the scores are a little optimistic; the test coverage in the metrics
(and the `miscalibrated` finding) says whether that matters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.fit.blend import apply_blend

SPLIT, CQR = "split_conformal", "cqr"


def band_name(level: float) -> str:
    """'80' for 0.8, '97.5' for 0.975: the suffix of the lower_/upper_ columns."""
    return f"{100 * level:.10g}"


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ceil((n + 1) level)-th smallest score (inf when n is too small for that level)."""
    n = len(scores)
    k = math.ceil((n + 1) * level)
    if n == 0 or k > n:
        return math.inf
    return float(np.partition(scores, k - 1)[k - 1])


def series_scale(scale: float) -> float:
    """A series' score scale: its MASE denominator, 1 when it has none (a constant series)."""
    return scale if math.isfinite(scale) and scale > 0 else 1.0


def served(f: Any, blend: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray | None,
                                                         np.ndarray | None]:
    """A validation SeriesForecast of the model alone, as it is served: the point with the
    blend applied, and the network's outer quantiles (if any) moved by the blend's shift."""
    point = apply_blend(f.preds, blend) if blend else f.preds["model"]
    if f.lower is None:
        return point, None, None
    shift = point - f.preds["model"]
    return point, f.lower + shift, f.upper + shift


def score_table(fcs: Sequence[Any], blend: dict[str, Any] | None = None,
                blended: bool = False) -> pd.DataFrame:
    """The nonconformity scores of scored points as a table [step (1-based), score, method]:
    the model alone's forecasts `fcs` with `blend` applied, or forecasts already `blended`
    (a backtest fold's test forecasts, as they are served)."""
    method = CQR if any(f.lower is not None for f in fcs) else SPLIT
    parts = []
    for f in fcs:
        point, lo, hi = (f.preds["model"], f.lower, f.upper) if blended else served(f, blend)
        score = np.abs(f.actual - point) if method == SPLIT else np.maximum(lo - f.actual,
                                                                            f.actual - hi)
        ok = f.ok & np.isfinite(score)  # [N, H]
        steps = np.nonzero(ok)[1] + 1
        parts.append(pd.DataFrame({"step": steps, "score": score[ok] / series_scale(f.scale)}))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {"step": pd.Series(dtype="int64"), "score": pd.Series(dtype="float64")})
    return table.assign(method=method)


def fit_intervals(fcs: Sequence[Any], levels: Sequence[float], horizon: int,
                  blend: dict[str, Any] | None = None, scores: pd.DataFrame | None = None,
                  calibrated_on: str = "validation") -> dict[str, Any] | None:
    """Per level and horizon step, the conformal quantile of the validation scores (or of
    `scores`, a score_table from elsewhere: a backtest's out-of-sample errors); None when no
    level is asked or nothing was scored. `fcs`: the model alone's validation SeriesForecasts
    (with the outer quantiles under the quantile loss); their series' scales apply the bands."""
    if not levels:
        return None
    table = score_table(fcs, blend) if scores is None else scores
    if table.empty:
        return None
    steps = [table.loc[table["step"] == h + 1, "score"].to_numpy(dtype="float64")
             for h in range(horizon)]
    return {"method": str(table["method"].iloc[0]), "levels": list(levels), "scaled_by": "mase",
            "calibrated_on": calibrated_on,
            "scale": {f.series_id: series_scale(f.scale) for f in fcs},
            "n": [len(s) for s in steps],
            "q": {band_name(a): [_finite(conformal_quantile(s, a)) for s in steps]
                  for a in levels}}


def _finite(q: float) -> float | None:
    """None where too few scores bound the level (its band is left out: NaN)."""
    return q if math.isfinite(q) else None


def bands(point: np.ndarray, intervals: dict[str, Any] | None, series_id: str,
          lower: np.ndarray | None = None, upper: np.ndarray | None = None
          ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{'80': (lower [N, H], upper [N, H]), ...} around the served `point` [N, H]: point +- q x
    scale (split conformal), or the network's band `lower`/`upper` widened (or narrowed) by
    q x scale (CQR); never crossing, and the point always inside."""
    if not intervals:
        return {}
    s = intervals["scale"].get(series_id, 1.0)
    out = {}
    for name, q in intervals["q"].items():
        width = np.array([np.nan if v is None else v for v in q], dtype="float64")[None, :] * s
        if intervals["method"] == CQR and lower is not None:
            lo, hi = lower - width, upper + width
        else:
            lo, hi = point - width, point + width
        out[name] = (np.minimum(lo, point), np.maximum(hi, point))
    return out


def interval_score(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                   level: float) -> np.ndarray:
    """The interval (Winkler) score per point: width plus 2 / (1 - level) times the miss."""
    alpha = 1 - level
    return (upper - lower) + (2 / alpha) * (np.maximum(lower - actual, 0)
                                            + np.maximum(actual - upper, 0))
