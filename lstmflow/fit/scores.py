"""Forecast error measures in original units: MAE, RMSE, sMAPE, MASE, relative MAE, intervals."""

from __future__ import annotations

import numpy as np


def mase_scale(actual: np.ndarray, train_end: int, season: int) -> tuple[float, int]:
    """In-sample seasonal-naive MAE on the training rows, and the lag it used.

    The MASE denominator (Hyndman & Koehler 2006, seasonal form): mean |y_t - y_{t-m}| over the
    training part, m = the season. It puts series of different units on one footing and reads
    below 1 exactly when a forecast beats what seasonal naive did in sample. When the training
    part holds no pair one season apart (or season is 1) the lag falls back to 1 (naive).
    NaN when every such change is 0 or missing (a constant series has no scale).
    """
    y = actual[:train_end]
    for m in dict.fromkeys((max(1, season), 1)):
        if len(y) <= m:
            continue
        d = np.abs(y[m:] - y[:-m])
        d = d[np.isfinite(d)]
        if d.size:
            mean = float(d.mean())
            return (mean if mean > 0 else float("nan")), m
    return float("nan"), 1


def point_errors(actual: np.ndarray, pred: np.ndarray, scale: np.ndarray | float) -> dict:
    """MAE, RMSE, sMAPE (%) and MASE of forecasts on scored points.

    `actual`, `pred` are 1-D over the same points; `scale` is the MASE denominator per point
    (or one value): MASE is the mean of |error| / scale over points with a finite scale, so a
    panel's figure weighs every point in its own series' units. sMAPE is
    200 |e| / (|y| + |f|), 0 where both are 0.
    """
    e = pred - actual
    ae = np.abs(e)
    denom = np.abs(actual) + np.abs(pred)
    smape = np.divide(200 * ae, denom, out=np.zeros_like(ae), where=denom > 0)
    scale = np.broadcast_to(np.asarray(scale, dtype="float64"), ae.shape)
    has = np.isfinite(scale)
    return {
        "mae": float(ae.mean()),
        "rmse": float(np.sqrt(np.mean(e**2))),
        "smape": float(smape.mean()),
        "mase": float(np.mean(ae[has] / scale[has])) if has.any() else None,
        "points": int(e.size),
    }


def interval_scores(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                    scale: np.ndarray | float) -> dict:
    """Share of actuals inside [lower, upper] and the mean width (original units, and over the
    MASE scale so panels can be pooled)."""
    width = upper - lower
    scale = np.broadcast_to(np.asarray(scale, dtype="float64"), width.shape)
    has = np.isfinite(scale)
    return {
        "coverage": float(np.mean((actual >= lower) & (actual <= upper))),
        "width": float(width.mean()),
        "width_scaled": float(np.mean(width[has] / scale[has])) if has.any() else None,
        "points": int(width.size),
    }


def relative_mae(per_series: dict[str, dict], method: str, reference: str) -> float | None:
    """Geometric mean over series of MAE(method) / MAE(reference) (AvgRelMAE).

    Scale-free and symmetric (Davydenko & Fildes 2013): every series counts once whatever its
    units or price level, so a panel is not decided by its largest series. None when a
    reference MAE is zero.
    """
    ratios = [v[method]["mae"] / v[reference]["mae"] for v in per_series.values()
              if v[reference]["mae"] > 0]
    if len(ratios) != len(per_series) or not ratios:
        return None
    return float(np.exp(np.mean(np.log(np.maximum(ratios, 1e-300)))))
