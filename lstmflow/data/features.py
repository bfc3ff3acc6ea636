"""Causal engineered features: every value at time t uses data up to t only.

Computed on the imputed target level, vectorised over all rows of all series at once. The
frame is cut into *runs*: maximal stretches of one series where the level is known. Every
rolling window and every EMA restarts at a run's first row (pandas rolling with a window
indexer clipped at the run start; groupby-EWM per run), so nothing crosses a series boundary
or a gap that imputation left open, and a feature is NaN until its window is full. Values are
exact per run: a feature of one series never depends, even in rounding, on another series.

Fitted feature state (JSON-safe, from the training rows only): which series are positive (log
returns and ratios) or not (differences), the calendar parts, and periods per year.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer

from lstmflow.config import FeaturesConfig
from lstmflow.data.calendar import CALENDAR_SHORT, HOLIDAY, calendar_parts, time_features
from lstmflow.data.schema import SERIES, TARGET, TIME, DataError
from lstmflow.data.segments import Segments
from lstmflow.data.timestamps import business_daily, grid_step

__all__ = ["add_features", "calendar_parts", "compute_features", "feature_names",
           "fit_feature_state", "warm_rows", "warmup_steps"]


class _RunWindow(BaseIndexer):
    """Trailing window of `window_size` rows, clipped at the start of each row's run."""

    def get_window_bounds(self, num_values=0, min_periods=None, center=None, closed=None, step=None):
        end = np.arange(1, num_values + 1, dtype=np.int64)  # [N] exclusive
        start = np.maximum(end - self.window_size, self.run_start).astype(np.int64)  # [N]
        return start, end


class Runs(Segments):
    """Runs of finite level (lstmflow.data.segments), with lags and windows that stay inside one."""

    def __init__(self, codes: np.ndarray, level: np.ndarray) -> None:
        super().__init__(codes, np.isfinite(level))

    def lag(self, v: np.ndarray, k: int) -> np.ndarray:
        """v[t - k] inside the same run, NaN before the run has k earlier rows."""
        out = np.full(len(v), np.nan)
        ok = self.pos >= k
        out[ok] = v[self.idx[ok] - k]
        return out

    def rolling(self, v: np.ndarray, w: int, how: str, ddof: int = 1) -> np.ndarray:
        """Trailing mean/std over w rows of one run; NaN until w finite values are in."""
        r = pd.Series(v).rolling(_RunWindow(window_size=w, run_start=self.start), min_periods=w)
        out = r.mean() if how == "mean" else r.std(ddof=ddof)
        return out.to_numpy(dtype="float64")

    def ewm(self, v: np.ndarray, *, span: float | None = None, alpha: float | None = None,
            min_periods: int = 1) -> np.ndarray:
        """Recursive EMA (adjust=False) restarted at each run; NaN before min_periods values."""
        g = pd.Series(v).groupby(self.code, sort=True)  # runs are contiguous and increasing
        out = g.ewm(span=span, alpha=alpha, adjust=False, min_periods=min_periods).mean()
        return out.to_numpy(dtype="float64")  # same row order as v (groups already sorted)


def warmup_steps(cfg: FeaturesConfig) -> int:
    """Rows per series (or after an open gap) before every input, the 1-step change included, is defined."""
    first = [1]  # the transformed target (difference / log return) needs one earlier row
    first += list(cfg.return_periods)
    first += [w - 1 for w in (*cfg.rolling_mean_windows, *cfg.zscore_windows,
                              *cfg.bollinger_windows, *cfg.ema_spans)]
    first += list(cfg.volatility_windows) + list(cfg.rsi_windows)
    if cfg.macd_spans:
        first.append(cfg.macd_spans[1] - 1 + cfg.macd_spans[2] - 1)
    return max(first)


def warm_rows(frame: pd.DataFrame, level_col: str, cfg: FeaturesConfig) -> np.ndarray:
    """[N] bool: the level is known and its run (from the series start or the end of a gap left
    open) has warmup_steps earlier rows, so every engineered input is defined; causal."""
    runs = Runs(pd.factorize(frame[SERIES])[0], frame[level_col].to_numpy(dtype="float64"))
    return runs.flag & (runs.pos >= warmup_steps(cfg))


def feature_names(cfg: FeaturesConfig, calendar: list[str]) -> list[str]:
    """Feature columns in their fixed order."""
    names = [f"ret_{k}" for k in cfg.return_periods]
    names += [f"mean_gap_{w}" for w in cfg.rolling_mean_windows]
    names += [f"vol_{w}" for w in cfg.volatility_windows]
    names += [f"zscore_{w}" for w in cfg.zscore_windows]
    names += [f"ema_gap_{s}" for s in cfg.ema_spans]
    names += [f"rsi_{w}" for w in cfg.rsi_windows]
    if cfg.macd_spans:
        names += ["macd", "macd_signal"]
    names += [f"bb_pctb_{w}" for w in cfg.bollinger_windows]
    for part in calendar:
        names += [f"{CALENDAR_SHORT[part]}_sin", f"{CALENDAR_SHORT[part]}_cos"]
    if cfg.holidays_country:
        names.append(HOLIDAY)
    return names


def _periods_per_year(times: np.ndarray, step: pd.Timedelta | None) -> float:
    """Steps per year: 252 on a business-day grid, else 365.25 days / step."""
    if step is None:
        return 1.0
    if business_daily(times, step):
        return 252.0
    return float(pd.Timedelta(days=365.25) / step)


def fit_feature_state(
    frame: pd.DataFrame, level_col: str, train_end: dict[str, int], cfg: FeaturesConfig
) -> dict[str, Any]:
    """Per-series choices fitted on the training rows only (JSON-safe)."""
    codes, uniques = pd.factorize(frame[SERIES])
    pos = pd.Series(codes).groupby(codes, sort=False).cumcount().to_numpy()  # [N] row in series
    keep = pos < per_row(codes, uniques, train_end, "split bounds")
    level, tcodes = frame[level_col].to_numpy(dtype="float64")[keep], codes[keep]
    times = frame[TIME].to_numpy()[keep]
    bad = np.bincount(tcodes, weights=level <= 0, minlength=len(uniques)) > 0  # [S]
    step = grid_step(times, tcodes)
    return {
        "positive": {str(u): not bool(bad[i]) for i, u in enumerate(uniques)},
        "calendar": calendar_parts(cfg, step),
        "periods_per_year": float(cfg.periods_per_year or _periods_per_year(times, step)),
    }


def per_row(codes: np.ndarray, uniques: pd.Index, mapping: dict[str, Any], what: str) -> np.ndarray:
    """[N] mapping[series] for every row, via the series codes (no per-row dict lookups)."""
    names = [str(u) for u in uniques]
    unknown = sorted(set(names) - set(mapping))
    if unknown:
        raise DataError(f"series {unknown[:5]} are not in the fitted {what}")
    return np.array([mapping[n] for n in names])[codes]


def _positive_rows(frame: pd.DataFrame, codes: np.ndarray, uniques: pd.Index, level: np.ndarray,
                   fstate: dict[str, Any]) -> np.ndarray:
    """Row mask of series modelled on the log scale; refuses a non-positive value there."""
    pos = per_row(codes, uniques, fstate["positive"], "feature state").astype(bool)  # [N]
    bad = pos & (level <= 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"column '{TARGET}' of series '{frame[SERIES].iloc[first]}' has {int(bad.sum())} value(s) <= 0 "
            f"(first at {frame[TIME].iloc[first]}) but its training part was positive, so its "
            "features use log returns and ratios; clean the data or retrain"
        )
    return pos


def _gap(level: np.ndarray, ref: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """level / ref - 1 on positive series, level - ref elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pos, level / ref - 1.0, level - ref)


def _change(level: np.ndarray, prev: np.ndarray, pos: np.ndarray, kind: str) -> np.ndarray:
    """Log or simple return on positive series, difference elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = level / prev
        rel = np.log(ratio) if kind == "log" else ratio - 1.0
    return np.where(pos, rel, level - prev)


def _safe_div(num: np.ndarray, den: np.ndarray, flat: float) -> np.ndarray:
    """num / den, `flat` where den is 0 (a flat window), NaN where either is NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(den == 0, np.where(np.isnan(num), np.nan, flat), out)


def _rsi(runs: Runs, level: np.ndarray, n: int) -> np.ndarray:
    """Wilder's RSI (0..100) over n steps; 50 when the window has no move."""
    d = level - runs.lag(level, 1)  # [N]
    up = runs.ewm(np.where(np.isnan(d), np.nan, np.maximum(d, 0)), alpha=1 / n, min_periods=n)
    dn = runs.ewm(np.where(np.isnan(d), np.nan, np.maximum(-d, 0)), alpha=1 / n, min_periods=n)
    return 100.0 * _safe_div(up, up + dn, 0.5)


def compute_features(
    frame: pd.DataFrame, level_col: str, cfg: FeaturesConfig, fstate: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Every configured feature as a float64 array [N], in feature_names order."""
    level = frame[level_col].to_numpy(dtype="float64")  # [N]
    codes, uniques = pd.factorize(frame[SERIES])
    runs = Runs(codes, level)
    pos = _positive_rows(frame, codes, uniques, level, fstate)
    r1 = _change(level, runs.lag(level, 1), pos, "log")  # [N] 1-step log return / difference
    stats: dict[tuple[int, str, int], np.ndarray] = {}

    def rolled(w: int, how: str, ddof: int = 1) -> np.ndarray:
        """Rolling statistic of the level, computed once per (window, statistic, ddof): rolling
        means, z-scores and Bollinger bands of one window share it."""
        if (w, how, ddof) not in stats:
            stats[w, how, ddof] = runs.rolling(level, w, how, ddof)
        return stats[w, how, ddof]

    f: dict[str, np.ndarray] = {}
    for k in cfg.return_periods:
        f[f"ret_{k}"] = _change(level, runs.lag(level, k), pos, cfg.return_kind)
    for w in cfg.rolling_mean_windows:
        f[f"mean_gap_{w}"] = _gap(level, rolled(w, "mean"), pos)
    ann = np.sqrt(fstate["periods_per_year"]) if cfg.annualize_volatility else 1.0
    for w in cfg.volatility_windows:
        f[f"vol_{w}"] = runs.rolling(r1, w, "std") * ann
    for w in cfg.zscore_windows:
        f[f"zscore_{w}"] = _safe_div(level - rolled(w, "mean"), rolled(w, "std"), 0.0)
    for s in cfg.ema_spans:
        f[f"ema_gap_{s}"] = _gap(level, runs.ewm(level, span=s, min_periods=s), pos)
    for n in cfg.rsi_windows:
        f[f"rsi_{n}"] = _rsi(runs, level, n)
    if cfg.macd_spans:
        fast, slow, sig = cfg.macd_spans
        ema_fast = runs.ewm(level, span=fast, min_periods=slow)  # defined with the slow one
        macd = _gap(ema_fast, runs.ewm(level, span=slow, min_periods=slow), pos)
        f["macd"] = macd
        f["macd_signal"] = runs.ewm(macd, span=sig, min_periods=sig)
    for w in cfg.bollinger_windows:
        band = 2 * cfg.bollinger_k * rolled(w, "std", ddof=0)
        f[f"bb_pctb_{w}"] = _safe_div(level - rolled(w, "mean"), band, 0.0) + 0.5
    f.update(time_features(frame[TIME].to_numpy(), cfg, fstate["calendar"]))
    return f


def add_features(
    frame: pd.DataFrame, level_col: str, cfg: FeaturesConfig, fstate: dict[str, Any]
) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """Append the features to the frame; returns (frame, names in order, report)."""
    feats = compute_features(frame, level_col, cfg, fstate)
    names = feature_names(cfg, fstate["calendar"])
    block = pd.DataFrame({n: feats[n] for n in names}, index=frame.index, copy=False)
    out = pd.concat([frame, block], axis=1)
    fallback = sorted(s for s, p in fstate["positive"].items() if not p)
    report: dict[str, Any] = {"features": names, "calendar": fstate["calendar"]}
    if fallback and names:
        report["log_fallback"] = (
            f"series {fallback} are not positive in their training part: their returns, "
            "ratios and volatility use differences instead of logs"
        )
    return out, names, report
