"""Errors in original units of the model and of naive baselines, on exactly the same points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmflow.preprocess import SeriesArrays, Z, inverse_target

METHODS = ("model", "naive", "seasonal_naive")


def baseline_forecasts(level: np.ndarray, ends: np.ndarray, horizon: int, season: int) -> dict:
    """Naive and seasonal-naive forecasts [N, H] from origins `ends` (local row indices).

    naive: the last known level; seasonal naive: the level one season before each target,
    taken from the latest full season at or before the origin.
    """
    h = np.arange(1, horizon + 1)  # [H]
    naive = np.repeat(level[ends][:, None], horizon, axis=1)  # [N, H]
    back = season * np.ceil(h / season).astype(int)  # [H]: steps back from the target
    idx = ends[:, None] + h[None, :] - back[None, :]  # [N, H], always <= origin
    snaive = np.where(idx >= 0, level[np.clip(idx, 0, None)], np.nan)
    return {"naive": naive, "seasonal_naive": snaive}


def series_forecasts(
    a: SeriesArrays, local_ends: np.ndarray, zhat: np.ndarray, state: dict[str, Any],
    horizon: int, season: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Actuals [N, H] and each method's forecasts [N, H] in original units for one series."""
    p = state["scalers"][a.series_id][Z]
    z = zhat.astype("float64") * p["scale"] + p["center"]  # [N, H] unscaled transformed target
    model = inverse_target(state["target_transform"], z, a.level[local_ends])
    rows = local_ends[:, None] + np.arange(1, horizon + 1)[None, :]  # [N, H]
    actual = a.actual[rows]
    return actual, {"model": model, **baseline_forecasts(a.level, local_ends, horizon, season)}


def _errors(actual: np.ndarray, pred: np.ndarray, scale: float = float("nan")) -> dict[str, float]:
    """MAE, RMSE and MASE (MAE over the series' in-sample one-step naive MAE: scale-free)."""
    e = pred - actual
    mae = float(np.mean(np.abs(e)))
    return {"mae": mae, "rmse": float(np.sqrt(np.mean(e**2))), "mase": mae / scale,
            "points": int(e.size)}


def naive_scale(a: SeriesArrays) -> float:
    """Mean absolute one-step change of the observed target over the training rows.

    The MASE denominator (Hyndman & Koehler 2006): it puts series of different units and price
    levels on one footing, so a panel's overall score is not decided by its largest series.
    """
    d = np.abs(np.diff(a.actual[: a.bounds.train_end]))
    d = d[np.isfinite(d)]
    m = float(d.mean()) if d.size else 0.0
    return m if m > 0 else float("nan")


def evaluate(
    arrays: Sequence[SeriesArrays], stack, ends: np.ndarray, zhat: np.ndarray,
    state: dict[str, Any], horizon: int, season: int,
) -> dict[str, Any]:
    """MAE and RMSE per method, overall and per series, on the points every method covers."""
    per_series: dict[str, dict] = {}
    pooled: dict[str, list] = {m: [] for m in ("actual", *METHODS)}
    for off, a in zip(stack.offsets, arrays, strict=True):
        sel = (ends >= off) & (ends < off + len(a.z))
        if not sel.any():
            continue
        actual, preds = series_forecasts(a, ends[sel] - off, zhat[sel], state, horizon, season)
        ok = np.isfinite(actual)
        for m in METHODS:
            ok &= np.isfinite(preds[m])
        if not ok.any():
            continue
        scale = naive_scale(a)
        per_series[a.series_id] = {m: _errors(actual[ok], preds[m][ok], scale) for m in METHODS}
        pooled["actual"].append(actual[ok])
        for m in METHODS:
            pooled[m].append(preds[m][ok])
    if not per_series:
        return {"overall": {}, "per_series": {}}
    act = np.concatenate(pooled["actual"])
    overall = {m: _errors(act, np.concatenate(pooled[m])) for m in METHODS}
    for m in METHODS:  # overall MASE: the mean of the series' MASE (each series counts once)
        overall[m]["mase"] = float(np.mean([v[m]["mase"] for v in per_series.values()]))
    return {"overall": overall, "per_series": per_series}


def score_key(block: dict[str, Any]) -> str:
    """The metric decisions use: MASE when every method has a finite one, else MAE."""
    ok = all(np.isfinite(v.get("mase", np.nan)) for v in block.values())
    return "mase" if ok else "mae"


def beats_baselines(metrics: dict[str, Any]) -> bool:
    """The model's overall score (MASE, else MAE) is below both baselines'."""
    o = metrics.get("overall") or {}
    if not o:
        return False
    k = score_key(o)
    return o["model"][k] < min(o["naive"][k], o["seasonal_naive"][k])
