"""Gate 1's per-series profile: one row of statistics per series (missing shares, longest gap,
jumps, outliers, a level shift of the newest rows, last observation) that the `ingested-series`
suite checks; timestamps of where each statistic points go in `at:` columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import ranges_outside
from lstmflow.data.schema import SERIES, TARGET, TIME
from lstmflow.data.segments import longest_run


def value_columns(cfg: PipelineConfig) -> dict[str, str]:
    """Canonical value column -> its name in the file (what the user knows it by)."""
    target = cfg.data.target_column if cfg.data.layout == "long" else TARGET
    return {TARGET: target, **{c: c for c in cfg.data.value_columns}}


def canonical(cfg: PipelineConfig, name: str) -> str:
    """The canonical column for a name in the config (the target's file name maps to 'target')."""
    return TARGET if name in (cfg.data.target_column, TARGET) else name


# ---- per-series statistics -------------------------------------------------------------------

def _longest_missing_run(frame: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    """Per series: longest run of consecutive missing steps and the timestamp it starts at."""
    codes, uniques = pd.factorize(frame[SERIES])
    length, row = longest_run(frame[col].isna().to_numpy(), codes, len(uniques))
    times = frame[TIME].to_numpy()
    start = np.where(row >= 0, times[np.clip(row, 0, None)], np.datetime64("NaT"))
    return pd.Series(length, index=uniques), pd.Series(start, index=uniques, dtype="datetime64[ns]")


def _finite(x: pd.Series) -> pd.Series:
    """Infinite values as missing: the 'finite' check reports them, no other check should."""
    return x.where(np.isfinite(x))


def _jumps(frame: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    """Per series: largest ratio between consecutive positive observed values, and where."""
    x = _finite(frame[col])
    prev = x.groupby(frame[SERIES]).ffill().groupby(frame[SERIES]).shift()
    ok = (x > 0) & (prev > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.exp(np.abs(np.log(x / prev))).where(ok)
    return _max_and_where(frame, ratio)


def _outliers(frame: pd.DataFrame, col: str, window: int, threshold: float) -> tuple[pd.Series, pd.Series]:
    """Per series: share of values whose robust score |x - median| / (1.4826 MAD) over a centred
    rolling window exceeds `threshold`, and where the worst one is. Windows with MAD 0 (flat
    stretches) score nothing rather than everything."""
    x = _finite(frame[col])
    g = x.groupby(frame[SERIES])
    roll = {"window": window, "min_periods": max(3, window // 2), "center": True}
    med = g.transform(lambda s: s.rolling(**roll).median())
    dev = (x - med).abs()
    mad = dev.groupby(frame[SERIES]).transform(lambda s: s.rolling(**roll).median())
    score = (dev / (1.4826 * mad)).where(mad > 0)
    share = (score > threshold).groupby(frame[SERIES]).sum() / x.notna().groupby(frame[SERIES]).sum()
    _, where = _max_and_where(frame, score)
    return share.fillna(0.0), where


def _level_shift(frame: pd.DataFrame, window: int, need: int) -> tuple[pd.Series, pd.Series]:
    """Per series: how far the median of the newest `window` observed targets (what the model
    reads next) lies outside the range of all earlier ones, in widths of that range (0 inside
    it; NaN when the earlier part is flat, shorter than the window, or the series has fewer
    than `need` observations: the history check speaks for those); and where that window
    starts. Same measure as the diagnosis' level shift and predict's warning."""
    seen = frame[frame[TARGET].notna() & np.isfinite(frame[TARGET])]
    newest = seen.groupby(SERIES).cumcount(ascending=False) < window
    recent, earlier = seen[newest].groupby(SERIES), seen[~newest].groupby(SERIES)[TARGET]
    lo, hi, n = earlier.min(), earlier.max(), earlier.size()
    med = recent[TARGET].median().reindex(lo.index)
    far = ranges_outside(med, lo, hi).where((hi > lo) & (n >= window) & (n + window >= need))
    return far, recent[TIME].min().reindex(far.index)


def _max_and_where(frame: pd.DataFrame, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per series: the largest value (NaN when none) and its timestamp."""
    g = values.groupby(frame[SERIES])
    top = g.max()
    idx = values.dropna().groupby(frame[SERIES]).idxmax()
    where = frame[TIME].reindex(idx.to_numpy())
    where.index = idx.index
    return top, where.reindex(top.index)


def series_profile(frame: pd.DataFrame, cfg: PipelineConfig | None = None,
                   report: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per series: rows, missing shares, longest gap, jumps, outliers, last observation.

    Columns are named `<statistic>:<canonical column>`; `at:<statistic>:<column>` hold the
    timestamp each statistic points at (for the examples of a failed check).
    """
    g = frame.groupby(SERIES)
    index = g.size().index
    out: dict[str, Any] = {SERIES: index.astype(str), "rows": g.size().to_numpy()}
    cols = list(value_columns(cfg)) if cfg is not None else [TARGET]
    for c in cols:
        out[f"missing_ratio:{c}"] = frame[c].isna().groupby(frame[SERIES]).mean().reindex(index).to_numpy()
        out[f"std:{c}"] = g[c].std(ddof=0).reindex(index).to_numpy()
    longest, start = _longest_missing_run(frame, TARGET)
    out["longest_gap"] = longest.reindex(index).fillna(0).to_numpy(dtype=np.int64)
    out["at:longest_gap"] = start.reindex(index).to_numpy()
    steps = frame[TIME].groupby(frame[SERIES]).diff()
    out["out_of_order"] = (steps <= pd.Timedelta(0)).groupby(frame[SERIES]).sum().reindex(index).to_numpy()
    last = frame[TIME].where(frame[TARGET].notna()).groupby(frame[SERIES]).max()
    out["last_observed"] = last.reindex(index).astype("datetime64[ns]").to_numpy()
    if cfg is not None:
        q = cfg.quality
        for c in cols:
            share, where = _outliers(frame, c, q.outlier_window, q.outlier_threshold)
            out[f"outlier_ratio:{c}"] = share.reindex(index).to_numpy()
            out[f"at:outlier_ratio:{c}"] = where.reindex(index).to_numpy()
        for c in jump_columns(cfg):
            if c in frame.columns:
                top, where = _jumps(frame, c)
                out[f"max_jump:{c}"] = top.reindex(index).to_numpy()
                out[f"at:max_jump:{c}"] = where.reindex(index).to_numpy()
    if cfg is not None and cfg.quality.max_level_shift is not None:
        far, where = _level_shift(frame, cfg.forecast.input_size, cfg.min_history())
        out["level_shift"] = far.reindex(index).to_numpy()
        out["at:level_shift"] = where.reindex(index).to_numpy()
    if report and report.get("rows_by_series"):
        rows = pd.Series(report["rows_by_series"], dtype="float64")
        off = pd.Series(report.get("off_grid_by_series") or {}, dtype="float64")
        share = (off.reindex(rows.index).fillna(0) / rows).reindex(index.astype(str))
        out["off_grid_ratio"] = share.fillna(0.0).to_numpy()
    return pd.DataFrame(out)


def jump_columns(cfg: PipelineConfig) -> list[str]:
    if cfg.quality.max_jump_ratio is None:
        return []
    return [TARGET, *(canonical(cfg, c) for c in cfg.quality.jump_columns)]
