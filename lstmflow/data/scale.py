"""Target transform (level, diff, log return) with its exact inverse, and per-series scalers.

Scalers are scikit-learn's, fitted per series and column on the training rows only and kept as
plain JSON `{kind, center, scale}`, applied with numpy: scaled = (x - center) / scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PreprocessConfig
from lstmflow.data.schema import SERIES, TARGET, DataError
from lstmflow.data.split import Bounds, train_mask

SCALERS = {"robust": "RobustScaler", "standard": "StandardScaler", "minmax": "MinMaxScaler"}


def transform_target(level: pd.Series, series: pd.Series, kind: str) -> pd.Series:
    """Level, first difference or log return of the target, computed per series."""
    if kind == "level":
        return level.astype("float64")
    prev = level.groupby(series, sort=False).shift(1)
    if kind == "diff":
        return level - prev
    bad = level <= 0
    if bad.any():
        first = series[bad].iloc[0]
        raise DataError(
            f"column '{TARGET}': preprocess.target_transform 'log_return' needs a positive target, "
            f"but {int(bad.sum())} value(s) are <= 0 (first in series '{first}'); use 'diff'"
        )
    return np.log(level / prev)


def inverse_target(kind: str, z: np.ndarray, origin_level: np.ndarray) -> np.ndarray:
    """Turn forecast transformed targets [N, H] back into levels [N, H] from levels at the origin [N]."""
    if kind == "level":
        return z.astype("float64")
    z = z.astype("float64")
    if kind == "diff":  # accumulate into the level step by step: exact inverse of differencing
        path = np.concatenate([origin_level.astype("float64")[:, None], z], axis=1)  # [N, 1 + H]
        return np.cumsum(path, axis=1)[:, 1:]
    return origin_level[:, None] * np.exp(np.cumsum(z, axis=1))  # [N, H]


def tail_stats(x: np.ndarray) -> tuple[float, float]:
    """Excess kurtosis and share beyond 3 IQR outside the quartiles of finite values."""
    x = x[np.isfinite(x)]
    if x.size < 4:
        return 0.0, 0.0
    kurt = pd.Series(x).kurt()
    q1, q3 = np.percentile(x, [25, 75])
    iqr = q3 - q1
    share = float(np.mean((x < q1 - 3 * iqr) | (x > q3 + 3 * iqr))) if iqr > 0 else 0.0
    return (float(kurt) if np.isfinite(kurt) else 0.0), share


def choose_scaler(x: np.ndarray, cfg: PreprocessConfig) -> tuple[str, str]:
    """The scaler kind for one training column and why."""
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return "none", "no finite training value"
    if np.ptp(finite) == 0:
        return "standard", "constant column: centred, scale 1"
    q1, q3 = np.percentile(finite, [25, 75])
    if cfg.scaler == "robust" and q3 == q1:
        return "standard", "interquartile range is 0: robust scale undefined"
    if cfg.scaler != "auto":
        return cfg.scaler, "configured"
    kurt, share = tail_stats(finite)
    if q3 == q1:
        return "standard", "interquartile range is 0"
    if kurt > cfg.auto_kurtosis:
        return "robust", f"excess kurtosis {kurt:.2f} > {cfg.auto_kurtosis:g}"
    if share > cfg.auto_outlier_share:
        return "robust", f"{share:.2%} beyond 3 IQR > {cfg.auto_outlier_share:.2%}"
    return "standard", f"light tails (excess kurtosis {kurt:.2f}, {share:.2%} beyond 3 IQR)"


def _sklearn_affine(kind: str, x: np.ndarray) -> tuple[float, float]:
    """Fit one scikit-learn scaler on a column [n] and return (center, scale): y = (x - center) / scale.

    Robust: center_, scale_; standard: mean_, scale_; minmax: data_min_, 1 / scale_ = range
    (scikit-learn sets the scale of a constant column to 1).
    """
    from sklearn import preprocessing  # here: applying a saved state needs no scikit-learn (~3 s)

    sk = getattr(preprocessing, SCALERS[kind])().fit(x.reshape(-1, 1))
    if kind == "robust":
        return float(sk.center_[0]), float(sk.scale_[0])
    if kind == "standard":
        return float(sk.mean_[0]), float(sk.scale_[0])
    rng = sk.data_range_[0]
    return float(sk.data_min_[0]), float(rng if rng > 0 else 1.0)


def fit_scalers(
    frame: pd.DataFrame, bounds: dict[str, Bounds], columns: list[str], cfg: PreprocessConfig,
    passthrough: set[str] | None = None,
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, dict[str, str]]]:
    """Per series, per column {kind, center, scale} from the training rows only, and the reasons."""
    passthrough = passthrough or set()
    params: dict[str, dict[str, dict[str, Any]]] = {}
    why: dict[str, dict[str, str]] = {}
    train = frame[train_mask(frame, bounds)]
    for sid, g in train.groupby(SERIES, sort=True):
        params[str(sid)], why[str(sid)] = {}, {}
        for c in columns:
            x = g[c].to_numpy(dtype="float64")
            x = x[np.isfinite(x)]
            if c in passthrough:
                kind, reason = "none", "bounded input, not scaled"
            else:
                kind, reason = choose_scaler(x, cfg)
            center, scale = (0.0, 1.0) if kind == "none" else _sklearn_affine(kind, x)
            params[str(sid)][c] = {"kind": kind, "center": center, "scale": scale}
            why[str(sid)][c] = f"{kind}: {reason}"
    return params, why


def scaler_arrays(frame: pd.DataFrame, params: dict, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row center [N] and scale [N] of one column from the fitted params."""
    sid = frame[SERIES].astype(str)
    missing = sorted(set(sid.unique()) - set(params))
    if missing:
        raise DataError(f"series {missing[:5]} have no fitted scaler (not in the training data)")
    center = sid.map({s: p[column]["center"] for s, p in params.items()}).to_numpy(dtype="float64")
    scale = sid.map({s: p[column]["scale"] for s, p in params.items()}).to_numpy(dtype="float64")
    return center, scale


def apply_scalers(frame: pd.DataFrame, params: dict, columns: list[str]) -> pd.DataFrame:
    """Scale columns per series with fitted params, vectorised over all rows of all series."""
    out = frame.copy()
    for c in columns:
        center, scale = scaler_arrays(out, params, c)
        out[c] = ((out[c].to_numpy(dtype="float64") - center) / scale).astype("float32")
    return out
