"""Imputation per series, fitted on the training rows only.

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
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PreprocessConfig
from lstmflow.data.schema import LEVEL, OBSERVED, SERIES, TARGET, TIME, DataError
from lstmflow.data.segments import gap_position
from lstmflow.data.split import Bounds, split_part, train_mask


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
    from sklearn.impute import KNNImputer  # here: scikit-learn costs ~3 s to import

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
