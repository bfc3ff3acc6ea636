"""Chronological split, causal imputation, target transform and per-series scaling.

Everything that is fitted (scalers) is fitted on the training rows of each series only, and
saved as plain JSON so prediction reuses it without pickle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PreprocessConfig
from lstmflow.ingest import SERIES, TARGET, TIME, DataError

OBSERVED = "_observed"  # bool column: the target was in the data, not imputed
LEVEL = "_level"  # target in original units after imputation (origin of inverse transforms)
Z = "z"  # transformed target: the first model input and the training target


@dataclass(frozen=True)
class Bounds:
    """Row positions inside one series: [0, train_end) train, [train_end, val_end) val, rest test."""

    train_end: int
    val_end: int
    length: int


def split_bounds(frame: pd.DataFrame, val_size: int, test_size: int) -> dict[str, Bounds]:
    """Chronological split per series: the last `test_size` rows test, `val_size` before val."""
    out = {}
    for sid, n in frame.groupby(SERIES, sort=True).size().items():
        val_end = int(n) - test_size
        train_end = val_end - val_size
        if train_end <= 0:
            raise DataError(f"series '{sid}' has {n} rows: too few for val + test")
        out[str(sid)] = Bounds(train_end, val_end, int(n))
    return out


def impute(frame: pd.DataFrame, cfg: PreprocessConfig, columns: list[str]) -> tuple[pd.DataFrame, dict]:
    """Fill gaps of at most `max_gap` steps per series; longer gaps stay NaN.

    Forward fill is causal. Linear interpolation uses the value after the gap, so it is only
    used inside a gap whose end is known; the windows that end inside such a gap are never
    used as forecast origins because their target is unobserved.
    """
    out = frame.copy()
    out[OBSERVED] = out[TARGET].notna()
    filled: dict[str, int] = {}
    g = out.groupby(SERIES, sort=False)
    for c in columns:
        before = out[c].isna()
        if cfg.max_gap == 0:
            continue
        if cfg.impute == "ffill":
            out[c] = g[c].ffill(limit=cfg.max_gap)
        else:
            out[c] = g[c].transform(
                lambda s: _interpolate_short_gaps(s, cfg.max_gap)
            )
        filled[c] = int((before & out[c].notna()).sum())
    out[LEVEL] = out[TARGET]
    return out, {"method": cfg.impute, "max_gap": cfg.max_gap, "filled": filled}


def _interpolate_short_gaps(s: pd.Series, max_gap: int) -> pd.Series:
    """Linear interpolation inside gaps of at most max_gap steps, nothing else."""
    na = s.isna()
    run_id = (~na).cumsum()
    run_len = na.groupby(run_id).transform("sum")
    fill = s.interpolate(method="linear", limit_area="inside")
    return s.where(~(na & (run_len <= max_gap)), fill)


def transform_target(level: pd.Series, series: pd.Series, kind: str) -> pd.Series:
    """Level, first difference or log return of the target, computed per series."""
    if kind == "level":
        return level.astype("float64")
    prev = level.groupby(series, sort=False).shift(1)
    if kind == "diff":
        return level - prev
    if (level <= 0).any():
        n = int((level <= 0).sum())
        raise DataError(
            f"preprocess.target_transform 'log_return' needs a positive target: {n} value(s) <= 0"
        )
    return np.log(level / prev)


def inverse_target(kind: str, z: np.ndarray, origin_level: np.ndarray) -> np.ndarray:
    """Turn forecast transformed targets [N, H] back into levels [N, H] from levels at the origin [N]."""
    if kind == "level":
        return z.astype("float64")
    steps = np.cumsum(z.astype("float64"), axis=1)  # [N, H]
    if kind == "diff":
        return origin_level[:, None] + steps
    return origin_level[:, None] * np.exp(steps)


def fit_scalers(
    frame: pd.DataFrame, bounds: dict[str, Bounds], columns: list[str], kind: str
) -> dict[str, dict[str, dict[str, float]]]:
    """Per-series, per-column centre and scale, from the training rows only."""
    params: dict[str, dict[str, dict[str, float]]] = {}
    for sid, g in frame.groupby(SERIES, sort=True):
        train = g.iloc[: bounds[str(sid)].train_end]
        params[str(sid)] = {c: _fit_column(train[c].to_numpy(dtype="float64"), kind) for c in columns}
    return params


def _fit_column(x: np.ndarray, kind: str) -> dict[str, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"center": 0.0, "scale": 1.0}
    if kind == "robust":
        q1, med, q3 = np.percentile(x, [25, 50, 75])
        center, scale = med, q3 - q1
        if scale <= 0:
            scale = np.std(x)
    elif kind == "standard":
        center, scale = x.mean(), x.std()
    else:
        center, scale = x.min(), x.max() - x.min()
    # A constant column passes through centred, never divided by zero.
    scale = float(scale) if np.isfinite(scale) and scale > 1e-12 else 1.0
    return {"center": float(center), "scale": scale}


def apply_scalers(frame: pd.DataFrame, params: dict, columns: list[str]) -> pd.DataFrame:
    """Scale columns per series with fitted params (vectorised over rows)."""
    out = frame.copy()
    sid = out[SERIES].astype(str)
    for c in columns:
        center = sid.map({s: p[c]["center"] for s, p in params.items()})
        scale = sid.map({s: p[c]["scale"] for s, p in params.items()})
        out[c] = ((out[c] - center) / scale).astype("float32")
    return out


@dataclass
class SeriesArrays:
    """One series ready for the model: contiguous arrays plus its split bounds."""

    series_id: str
    timestamps: np.ndarray  # [T] datetime64
    x: np.ndarray  # [T, F] float32 scaled inputs (NaN where unknown)
    z: np.ndarray  # [T] float32 scaled transformed target (NaN where unobserved)
    level: np.ndarray  # [T] float64 imputed target in original units
    actual: np.ndarray  # [T] float64 observed target in original units (NaN where missing)
    bounds: Bounds


def to_arrays(frame: pd.DataFrame, inputs: list[str], bounds: dict[str, Bounds]) -> list[SeriesArrays]:
    """Split the scaled frame into per-series contiguous arrays."""
    out = []
    for sid, g in frame.groupby(SERIES, sort=True):
        actual = g[LEVEL].where(g[OBSERVED]).to_numpy(dtype="float64")
        out.append(
            SeriesArrays(
                series_id=str(sid),
                timestamps=g[TIME].to_numpy(),
                x=np.ascontiguousarray(g[inputs].to_numpy(dtype="float32")),
                z=np.ascontiguousarray(g["_z_target"].to_numpy(dtype="float32")),
                level=g[LEVEL].to_numpy(dtype="float64"),
                actual=actual,
                bounds=bounds[str(sid)],
            )
        )
    return out


def prepared_state(params: dict, inputs: list[str], cfg: PreprocessConfig, extra: dict[str, Any]) -> dict:
    """The JSON-safe fitted state saved with the model and reused for prediction."""
    return {
        "target_transform": cfg.target_transform,
        "scaler": cfg.scaler,
        "impute": cfg.impute,
        "max_gap": cfg.max_gap,
        "inputs": inputs,
        "scalers": params,
        **extra,
    }
