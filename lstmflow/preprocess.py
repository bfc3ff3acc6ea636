"""Chronological split, imputation, target transform and per-series scaling.

Everything fitted (KNN neighbours, scalers, feature choices) is fitted on the training rows of
each series only and saved as plain JSON, so prediction reuses it without pickle.

What is causal (a value at row t depends on rows <= t of its own series and the fitted state):
- 'ffill': fills the first `max_gap` missing steps after the last observation. Causal.
- 'knn': a missing value at t is the mean of the k training rows nearest on the values observed
  at t (distance on standardised columns, scikit-learn KNNImputer fit on training rows). Given
  the fitted state it is causal; a *training* row is filled from other training rows, later
  ones included (in-sample, like any fitted parameter).
- 'linear': a gap of at most `max_gap` steps is interpolated in time between the values around
  it, so a filled row depends on the first observation after its gap (at most max_gap + 1 rows
  ahead). Not causal: changing values from row t on can change only the missing rows of the gap
  that ends at t (and what is computed from them). A gap is never interpolated across a split
  boundary (train|val|test), so validation and test values never reach training rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import KNNImputer
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from lstmflow.config import PreprocessConfig
from lstmflow.ingest import SERIES, TARGET, TIME, DataError

ORIGIN_OK = "_origin_ok"  # bool column: no input at this row was computed from a later value
OBSERVED = "_observed"  # bool column: the target was in the data, not imputed
LEVEL = "_level"  # target in original units after imputation (origin of inverse transforms)
Z = "z"  # transformed target: the first model input and the training target
SCALERS = {"robust": RobustScaler, "standard": StandardScaler, "minmax": MinMaxScaler}


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


def split_part(frame: pd.DataFrame, bounds: dict[str, Bounds]) -> np.ndarray:
    """[N] 0 on each series' training rows, 1 on validation rows, 2 on test rows."""
    pos = frame.groupby(SERIES, sort=False).cumcount().to_numpy()
    sid = frame[SERIES].astype(str)
    train_end = sid.map({s: b.train_end for s, b in bounds.items()}).fillna(0).to_numpy()
    val_end = sid.map({s: b.val_end for s, b in bounds.items()}).fillna(0).to_numpy()
    return (pos >= train_end).astype(np.int64) + (pos >= val_end)


def train_mask(frame: pd.DataFrame, bounds: dict[str, Bounds]) -> np.ndarray:
    """[N] True on each series' training rows."""
    return split_part(frame, bounds) == 0


# ---------------------------------------------------------------- imputation


def gap_position(na: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """[N] 0-based position of each missing row inside its run of missing rows; -1 if observed."""
    n = len(na)
    idx = np.arange(n)
    new = np.ones(n, dtype=bool)
    new[1:] = (codes[1:] != codes[:-1]) | (na[1:] != na[:-1])
    start = np.maximum.accumulate(np.where(new, idx, 0))
    return np.where(na, idx - start, -1)


def _interpolate(values: np.ndarray, times: np.ndarray, codes: np.ndarray, max_gap: int) -> np.ndarray:
    """Time-linear interpolation inside gaps of at most max_gap rows with a value on both sides."""
    n = len(values)
    idx = np.arange(n)
    obs = ~np.isnan(values)
    prev = np.maximum.accumulate(np.where(obs, idx, -1))  # [N] last observed row <= t
    nxt = np.minimum.accumulate(np.where(obs, idx, n)[::-1])[::-1]  # [N] first observed row >= t
    ok = ~obs & (prev >= 0) & (nxt < n)
    p, q = np.clip(prev, 0, n - 1), np.clip(nxt, 0, n - 1)
    ok &= (codes[p] == codes) & (codes[q] == codes) & (q - p - 1 <= max_gap)
    t = times.astype("int64").astype("float64")  # [N] ns
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = (t - t[p]) / (t[q] - t[p])
    return np.where(ok, values[p] + (values[q] - values[p]) * frac, values)


def fit_knn(frame: pd.DataFrame, bounds: dict[str, Bounds], columns: list[str],
            cfg: PreprocessConfig) -> dict[str, Any]:
    """Per series: column means/scales and the newest training rows (standardised) as neighbours."""
    out: dict[str, Any] = {}
    train = frame[train_mask(frame, bounds)]
    for sid, g in train.groupby(SERIES, sort=True):
        x = g[columns].to_numpy(dtype="float64", copy=True)  # [n, C]
        x[~np.isfinite(x)] = np.nan
        with warnings.catch_warnings():  # an all-missing column: mean 0, scale 1 below
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)  # [C]
        mean = np.where(np.isfinite(mean), mean, 0.0)
        sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
        donors = ((x - mean) / sd)[-cfg.knn_max_donors :]
        out[str(sid)] = {
            "mean": mean.tolist(),
            "scale": sd.tolist(),
            "donors": [[None if np.isnan(v) else float(v) for v in row] for row in donors],
        }
    return {"columns": columns, "k": cfg.knn_neighbors, "series": out}


def _knn_fill(g: pd.DataFrame, st: dict[str, Any], columns: list[str], k: int) -> np.ndarray:
    """KNN-imputed copy [n, C] of one series' columns (every missing cell filled where possible)."""
    x = g[columns].to_numpy(dtype="float64")  # [n, C]
    donors = np.array(st["donors"], dtype="float64").reshape(-1, len(columns))  # None -> NaN
    mean, sd = np.array(st["mean"]), np.array(st["scale"])
    rows = np.isnan(x).any(axis=1)
    if not rows.any() or len(donors) == 0:
        return x
    imp = KNNImputer(n_neighbors=k, keep_empty_features=True).fit(donors)
    filled = x.copy()
    filled[rows] = imp.transform((x[rows] - mean) / sd) * sd + mean
    has_donor = ~np.isnan(donors).all(axis=0)  # [C]
    evidence = (~np.isnan(x)).sum(axis=1, keepdims=True) > 0  # [n, 1] something observed at t
    ok = has_donor[None, :] & evidence
    return np.where(np.isnan(x) & ok, filled, x)


def impute(
    frame: pd.DataFrame, bounds: dict[str, Bounds], cfg: PreprocessConfig, columns: list[str],
    knn_state: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any] | None]:
    """Fill gaps per series (see the module docstring); returns (frame, report, knn state).

    Gaps longer than max_gap stay NaN (in part, for ffill/knn: their first max_gap steps are
    filled); every input at those rows is NaN, so no window crosses them.
    """
    out = frame.copy()
    out[OBSERVED] = out[TARGET].notna()
    codes = pd.factorize(out[SERIES])[0]
    na_before = out[columns].isna()
    if cfg.max_gap > 0 and cfg.impute == "ffill":
        for c in columns:
            out[c] = out.groupby(SERIES, sort=False)[c].ffill(limit=cfg.max_gap)
    elif cfg.max_gap > 0 and cfg.impute == "linear":
        times = out[TIME].to_numpy()
        parts = codes * 3 + split_part(out, bounds)  # never interpolate across a split boundary
        for c in columns:
            out[c] = _interpolate(out[c].to_numpy(dtype="float64"), times, parts, cfg.max_gap)
    elif cfg.max_gap > 0 and cfg.impute == "knn":
        if len(columns) < 2:
            raise DataError(
                "preprocess.impute 'knn' needs covariates (data.covariates is empty): neighbours "
                "are found on the covariates observed at a missing step; use 'ffill' or 'linear'"
            )
        knn_state = knn_state or fit_knn(out, bounds, columns, cfg)
        out = _apply_knn(out, codes, columns, knn_state, cfg.max_gap)
    out[LEVEL] = out[TARGET]
    sid = out[SERIES].astype(str)
    filled = (na_before & out[columns].notna()).groupby(sid, sort=True).sum()
    left = out[columns].isna().groupby(sid, sort=True).sum()
    report = {
        "method": cfg.impute,
        "max_gap": cfg.max_gap,
        "filled": {str(s): {c: int(v) for c, v in row.items()} for s, row in filled.iterrows()},
        "still_missing": {str(s): {c: int(v) for c, v in row.items()} for s, row in left.iterrows()},
        "filled_total": {c: int(filled[c].sum()) for c in columns},
    }
    return out, report, knn_state


def _apply_knn(out: pd.DataFrame, codes: np.ndarray, columns: list[str], st: dict[str, Any],
               max_gap: int) -> pd.DataFrame:
    """KNN fill per series (a loop over series, vectorised over rows), first max_gap steps of a gap."""
    if st["columns"] != columns:
        raise DataError(f"KNN state was fitted on columns {st['columns']}, not {columns}")
    values = out[columns].to_numpy(dtype="float64")  # [N, C]
    result = values.copy()
    for sid, g in out.groupby(SERIES, sort=False):
        if str(sid) not in st["series"]:
            raise DataError(f"series '{sid}' is not in the fitted KNN state")
        rows = out.index.get_indexer(g.index)
        result[rows] = _knn_fill(g, st["series"][str(sid)], columns, st["k"])
    for j, c in enumerate(columns):
        gp = gap_position(np.isnan(values[:, j]), codes)
        keep = (gp >= 0) & (gp < max_gap)
        out[c] = np.where(keep, result[:, j], values[:, j])
    return out


# ---------------------------------------------------------------- target transform


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


# ---------------------------------------------------------------- scaling


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
    sk = SCALERS[kind]().fit(x.reshape(-1, 1))
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


# ---------------------------------------------------------------- arrays and state


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
    # [T] bool: a window may end here. False inside a gap filled by linear interpolation, whose
    # values (and features) were computed from the value after the gap: not known at that time.
    origin_ok: np.ndarray | None = None


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
                origin_ok=g[ORIGIN_OK].to_numpy(dtype=bool) if ORIGIN_OK in g else None,
            )
        )
    return out
