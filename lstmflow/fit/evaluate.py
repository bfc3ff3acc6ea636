"""Errors in original units of the model and of naive baselines, on exactly the same points.

Overall, per series and per horizon step: MAE, RMSE, sMAPE and MASE (scaled by the in-sample
seasonal-naive MAE of each series' training part; see `scores.mase_scale`), the relative MAE
promotion uses, interval coverage and width when the model fits quantiles, and per series the
shape of the forecasts next to the actuals (`diagnosis.shape`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.data.arrays import SeriesArrays
from lstmflow.data.scale import inverse_target
from lstmflow.data.schema import Z
from lstmflow.fit.blend import apply_blend
from lstmflow.fit.coverage import calibration
from lstmflow.fit.diagnosis.shape import forecast_shape
from lstmflow.fit.diagnosis.thresholds import STATS_MAX_SERIES
from lstmflow.fit.intervals import bands
from lstmflow.fit.scores import interval_scores, mase_scale, point_errors, relative_mae

METHODS = ("model", "naive", "seasonal_naive")
MASE_SCALE = "in-sample seasonal-naive MAE (lag = evaluation.season) on each series' training part"


@dataclass
class SeriesForecast:
    """One series' test forecasts in original units, [N origins, H steps] each."""

    series_id: str
    origins: np.ndarray  # [N] timestamps of the forecast origins
    times: np.ndarray  # [N, H] timestamps of the targets
    actual: np.ndarray  # [N, H] observed target (NaN where unobserved)
    preds: dict[str, np.ndarray]  # method -> [N, H]
    ok: np.ndarray  # [N, H] bool: points every method covers (the scored points)
    scale: float  # MASE denominator (NaN: none)
    lower: np.ndarray | None = None  # [N, H] lowest quantile (quantile loss only)
    upper: np.ndarray | None = None  # [N, H] highest quantile
    bands: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # the calibrated intervals by level name ('80'): (lower [N, H], upper [N, H])


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


def blended_levels(a: SeriesArrays, local_ends: np.ndarray, z: np.ndarray, state: dict,
                   horizon: int, levels: np.ndarray | None = None) -> np.ndarray:
    """The model's point forecasts [N, H] in original units, with the validation-fitted blend
    toward naive and seasonal naive applied when the state holds one (lstmflow.fit.blend):
    what evaluation scores, the champion is re-scored with, and predict serves. `levels`: the
    unblended levels when already computed."""
    levels = to_levels(a, local_ends, z, state) if levels is None else levels
    if not (blend := state.get("blend")):
        return levels
    parts = baseline_forecasts(a.level, local_ends, horizon, blend["season"])
    return apply_blend({"model": levels, **parts}, blend)


def to_levels(a: SeriesArrays, local_ends: np.ndarray, z: np.ndarray, state: dict) -> np.ndarray:
    """Scaled transformed-target forecasts [N, H] -> levels in original units [N, H].

    For a diff or log-return target a quantile path is cumulated like a point path: exact for
    step 1 and for a level target, an upper bound on the width beyond (comonotone steps).
    """
    p = state["scalers"][a.series_id][Z]
    unscaled = z.astype("float64") * p["scale"] + p["center"]
    return inverse_target(state["target_transform"], unscaled, a.level[local_ends])


def model_levels(a: SeriesArrays, local_ends: np.ndarray, zhat: np.ndarray, state: dict,
                 horizon: int, qhat: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The model's forecasts from origins `local_ends` in original units, [N, H] each: `alone`
    (the network's own), `model` (with the state's validation-fitted blend toward the
    baselines applied, else the same), from quantiles `qhat` [N, H, Q] the outer levels
    `lower` and `upper` moved by the blend's shift, and `bands`: the state's calibrated
    intervals by level (lstmflow.fit.intervals). The one place a forecast becomes levels:
    evaluation, the champion's re-scoring and predict all go through it."""
    alone = to_levels(a, local_ends, zhat, state)
    out: dict[str, Any] = {"alone": alone,
                           "model": blended_levels(a, local_ends, zhat, state, horizon, alone)}
    if qhat is not None and qhat.shape[-1] > 1:  # [N, H, Q]
        shift = out["model"] - alone  # [N, H] what the blend moved the point by
        out["lower"] = to_levels(a, local_ends, qhat[..., 0], state) + shift
        out["upper"] = to_levels(a, local_ends, qhat[..., -1], state) + shift
    out["bands"] = bands(out["model"], state.get("intervals"), a.series_id, out.get("lower"),
                         out.get("upper"))
    return out


def series_forecast(
    a: SeriesArrays, local_ends: np.ndarray, zhat: np.ndarray, state: dict[str, Any],
    horizon: int, season: int, qhat: np.ndarray | None = None,
) -> SeriesForecast:
    """Actuals and every method's forecasts in original units for one series' origins."""
    rows = local_ends[:, None] + np.arange(1, horizon + 1)[None, :]  # [N, H]
    actual = a.actual[rows]
    lv = model_levels(a, local_ends, zhat, state, horizon, qhat)
    preds = {"model": lv["model"], **baseline_forecasts(a.level, local_ends, horizon, season)}
    if state.get("blend"):  # the network's own forecasts: what the diagnosis reads
        preds["model_alone"] = lv["alone"]
    ok = np.isfinite(actual)
    for m in METHODS:
        ok &= np.isfinite(preds[m])
    return SeriesForecast(
        series_id=a.series_id, origins=a.timestamps[local_ends], times=a.timestamps[rows],
        actual=actual, preds=preds, ok=ok, scale=mase_scale(a.actual, a.bounds.train_end,
                                                            season)[0],
        lower=lv.get("lower"), upper=lv.get("upper"), bands=lv["bands"],
    )


def collect_forecasts(
    arrays: Sequence[SeriesArrays], stack, ends: np.ndarray, zhat: np.ndarray,
    state: dict[str, Any], horizon: int, season: int, qhat: np.ndarray | None = None,
) -> list[SeriesForecast]:
    """Per series, the forecasts of every origin in `ends` (global indices into `stack`)."""
    out = []
    for off, a in zip(stack.offsets, arrays, strict=True):
        sel = (ends >= off) & (ends < off + len(a.z))
        if sel.any():
            out.append(series_forecast(a, ends[sel] - off, zhat[sel], state, horizon, season,
                                       None if qhat is None else qhat[sel]))
    return out


def _pool(fcs: list[SeriesForecast], step: int | None = None) -> dict[str, np.ndarray]:
    """Scored points of all series (at one horizon step, or all) as flat arrays."""
    cols = slice(None) if step is None else slice(step, step + 1)
    out: dict[str, list] = {k: [] for k in ("actual", "scale", "lower", "upper", *METHODS)}
    for f in fcs:
        ok = f.ok[:, cols]
        out["actual"].append(f.actual[:, cols][ok])
        out["scale"].append(np.full(int(ok.sum()), f.scale))
        for m in METHODS:
            out[m].append(f.preds[m][:, cols][ok])
        if f.lower is not None:
            out["lower"].append(f.lower[:, cols][ok])
            out["upper"].append(f.upper[:, cols][ok])
    return {k: np.concatenate(v) for k, v in out.items() if v}


def _scores(p: dict[str, np.ndarray]) -> dict[str, dict]:
    return {m: point_errors(p["actual"], p[m], p["scale"]) for m in METHODS}


def _intervals(fcs: list[SeriesForecast], levels: Sequence[float], horizon: int) -> dict:
    """Coverage and width of the outer quantile interval: overall, per series, per step."""
    def one(p: dict[str, np.ndarray]) -> dict:
        return interval_scores(p["actual"], p["lower"], p["upper"], p["scale"])

    return {
        "levels": [levels[0], levels[-1]], "nominal": round(levels[-1] - levels[0], 6),
        **one(_pool(fcs)),
        "per_series": {f.series_id: one(_pool([f])) for f in fcs},
        "per_horizon": [one(_pool(fcs, h)) for h in range(horizon)],
    }


def score(fcs: list[SeriesForecast], horizon: int,
          levels: Sequence[float] | None = None) -> dict[str, Any]:
    """Metrics of every method overall, per series and per horizon step, on the scored points."""
    fcs = [f for f in fcs if f.ok.any()]
    if not fcs:
        return {"overall": {}, "per_series": {}, "per_horizon": {}, "mase_scale": MASE_SCALE}
    per_series = {f.series_id: _scores(_pool([f])) for f in fcs}
    overall = _scores(_pool(fcs))
    for m in METHODS:  # each method's MAE relative to naive, geometric mean over series
        overall[m]["rel_mae"] = relative_mae(per_series, m, "naive")
        for v in per_series.values():
            v[m]["rel_mae"] = v[m]["mae"] / v["naive"]["mae"] if v["naive"]["mae"] > 0 else None
    overall["model"]["rel_mae_vs_seasonal_naive"] = relative_mae(per_series, "model", "seasonal_naive")
    steps = [_scores(_pool(fcs, h)) if any(f.ok[:, h].any() for f in fcs) else None
             for h in range(horizon)]
    out: dict[str, Any] = {
        "overall": overall, "per_series": per_series,
        "per_horizon": {m: [s[m] if s else None for s in steps] for m in METHODS},
        "mase_scale": MASE_SCALE,
        # how the forecasts move next to the actuals and naive (flat_forecast, lagged_copy)
        "shape": {f.series_id: sh for f in fcs[:STATS_MAX_SERIES]
                  if (sh := forecast_shape(f.actual, f.preds, f.ok)) is not None},
    }
    if levels is not None and len(levels) > 1 and fcs[0].lower is not None:
        out["intervals"] = _intervals(fcs, levels, horizon)
    if cal := calibration(fcs, horizon):  # the calibrated intervals (forecast.intervals)
        out["calibration"] = cal
    return out


def forecast_frame(fcs: list[SeriesForecast]) -> pd.DataFrame:
    """Long table of forecasts, one row per (series, origin, step): what the report plots."""
    parts = []
    for f in fcs:
        n, h = f.actual.shape
        cols: dict[str, Any] = {
            "series_id": f.series_id, "origin": np.repeat(f.origins, h),
            "step": np.tile(np.arange(1, h + 1), n), "time": f.times.reshape(-1),
            "actual": f.actual.reshape(-1),
            **{m: f.preds[m].reshape(-1) for m in METHODS},
        }
        if f.lower is not None:
            cols.update(lower=f.lower.reshape(-1), upper=f.upper.reshape(-1))
        for name, (lo, hi) in f.bands.items():  # lower_80, upper_80, ...
            cols.update({f"lower_{name}": lo.reshape(-1), f"upper_{name}": hi.reshape(-1)})
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


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
