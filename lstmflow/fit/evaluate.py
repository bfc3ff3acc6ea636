"""Errors in original units of the model and of naive baselines, on exactly the same points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmflow.data.arrays import SeriesArrays
from lstmflow.data.scale import inverse_target
from lstmflow.data.schema import Z

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
    mase = mae / scale if np.isfinite(scale) else None  # None: no in-sample scale (pooled, constant)
    return {"mae": mae, "rmse": float(np.sqrt(np.mean(e**2))), "mase": mase, "points": int(e.size)}


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
    for m in METHODS:  # each method's MAE relative to naive, geometric mean over series
        overall[m]["rel_mae"] = relative_mae(per_series, m, "naive")
        for v in per_series.values():
            v[m]["rel_mae"] = v[m]["mae"] / v["naive"]["mae"] if v["naive"]["mae"] > 0 else None
    overall["model"]["rel_mae_vs_seasonal_naive"] = relative_mae(per_series, "model", "seasonal_naive")
    return {"overall": overall, "per_series": per_series}


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


def beats_baselines(metrics: dict[str, Any]) -> bool:
    """The model's relative MAE (geometric mean over series) is below 1 against both baselines;
    pooled MAE when a relative one cannot be formed."""
    per = metrics.get("per_series") or {}
    o = metrics.get("overall") or {}
    if not o:
        return False
    vs = [relative_mae(per, "model", ref) for ref in ("naive", "seasonal_naive")] if per else [None]
    if all(r is not None for r in vs):
        return all(r < 1 for r in vs)
    return o["model"]["mae"] < min(o["naive"]["mae"], o["seasonal_naive"]["mae"])
