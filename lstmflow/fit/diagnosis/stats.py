"""Statistics of the data the diagnosis reads: per series and split, from the prepared arrays.

`z` is what the model was trained on (the scaled transformed target); its spread and centre per
split show a distribution shift. The predictability of the level's changes (out-of-sample R^2
of a small linear autoregression, direct for each horizon step) says whether there is anything
to learn beyond the last value: on a random walk there is not. The shortest cycle of the
training part (`cycles.shortest_cycle`) and the window the model read say whether the window
reaches the dependency the data shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmflow.data.arrays import SeriesArrays
from lstmflow.fit.diagnosis.cycles import shortest_cycle
from lstmflow.fit.diagnosis.thresholds import AR_LAGS, AR_MAX_ROWS, AR_STEPS, CYCLE_MAX_ROWS, STATS_MAX_SERIES

MAD_TO_SD = 1.4826  # 1.4826 x MAD estimates the standard deviation of normal data


def robust_moments(x: np.ndarray) -> dict[str, float | int | None]:
    """Count, median and MAD-based spread of the finite values (None when too few), and the
    largest absolute value (a scaled target far above ~10 is a data problem, not a fit's)."""
    x = x[~np.isnan(x)]
    big = float(np.abs(x).max()) if x.size else None
    x = x[np.isfinite(x)]
    if x.size < 3:
        return {"n": int(x.size), "median": None, "spread": None, "max_abs": big}
    med = float(np.median(x))
    return {"n": int(x.size), "median": med,
            "spread": float(MAD_TO_SD * np.median(np.abs(x - med))), "max_abs": big}


def _design(d: np.ndarray, origins: np.ndarray, h: int, season: int) -> np.ndarray:
    """Regressors for the change h steps after each origin: the last AR_LAGS changes, and the
    change one season before the target when that is known at the origin. [N, K]"""
    cols = [d[origins - k] for k in range(AR_LAGS)]
    if season > 1 and h <= season:
        cols.append(d[origins + h - season])
    return np.column_stack([np.ones(len(origins)), *cols])


def predictability(actual: np.ndarray, train_end: int, val_end: int, horizon: int, season: int
                   ) -> float | None:
    """Mean over horizon steps of the out-of-sample R^2 of a linear model of the level's
    changes: fitted on the training part, scored on the validation part (the test part is
    left out: a shift there must not read as unpredictability), against the training mean
    change (drift). ~0 or below on a random walk; None when too short."""
    d = np.diff(actual, prepend=np.nan)  # [T] change into each step
    first = max(AR_LAGS + max(season, 1), train_end - AR_MAX_ROWS - horizon)
    scores = []
    for h in sorted(set(np.linspace(1, horizon, min(horizon, AR_STEPS)).round().astype(int))):
        origins = np.arange(first, len(d) - h)
        target = d[origins + h]
        x = _design(d, origins, h, season)
        fine = np.isfinite(target) & np.isfinite(x).all(axis=1)
        train = fine & (origins + h < train_end)
        test = fine & (origins >= train_end - 1) & (origins + h < val_end)
        tr = np.flatnonzero(train)
        if len(tr) < 5 * x.shape[1] or test.sum() < 10:
            return None
        xt = x[tr].T @ x[tr]  # [K, K] normal equations, a tiny ridge keeps them solvable
        coef = np.linalg.solve(xt + 1e-9 * np.trace(xt) * np.eye(len(xt)), x[tr].T @ target[tr])
        base = np.mean((target[test] - target[tr].mean()) ** 2)
        if base <= 0:
            return None
        scores.append(1 - np.mean((target[test] - x[test] @ coef) ** 2) / base)
    return float(np.mean(scores))


def level_ranges(actual: np.ndarray, train_end: int, val_end: int) -> dict[str, Any]:
    """The observed target in original units: the training part's range and median, and the
    median of each later part (None where nothing was observed)."""
    def finite(x: np.ndarray) -> np.ndarray:
        return x[np.isfinite(x)]

    train = finite(actual[:train_end])
    out: dict[str, Any] = {"train": {"min": float(train.min()), "max": float(train.max()),
                                     "median": float(np.median(train))} if train.size else None}
    for split, part in (("val", actual[train_end:val_end]), ("test", actual[val_end:])):
        part = finite(part)
        out[split] = {"median": float(np.median(part))} if part.size else None
    return out


def data_stats(arrays: Sequence[SeriesArrays], season: int, horizon: int,
               input_size: int | None = None) -> dict[str, Any]:
    """Per series: robust moments of the scaled target per split, the predictability and the
    shortest cycle of the training part; `input_size` is the window the model read."""
    per_series, budget = {}, CYCLE_MAX_ROWS
    for i, a in enumerate(arrays):
        b = a.bounds
        splits = {"train": a.z[: b.train_end], "val": a.z[b.train_end : b.val_end],
                  "test": a.z[b.val_end :]}
        measured = i < STATS_MAX_SERIES
        rows = min(b.train_end, AR_MAX_ROWS)
        cycle = shortest_cycle(a.level[: b.train_end]) if measured and rows <= budget else None
        budget -= rows if measured else 0
        per_series[a.series_id] = {
            **{k: robust_moments(v.astype("float64")) for k, v in splits.items()},
            "level": level_ranges(a.actual, b.train_end, b.val_end),
            "predictability": predictability(a.actual, b.train_end, b.val_end, horizon, season)
            if measured else None,
            "cycle": cycle,
        }
    return {"season": season, "horizon": horizon, "input_size": input_size,
            "per_series": per_series}
