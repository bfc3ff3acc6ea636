"""Gate 1: the ingested canonical frame, and a per-series profile of it.

Two suites, both built from the config so thresholds are data, not code:
- `ingested` checks rows of the canonical frame (columns, types, unique stamps, finite values,
  opt-in value bounds); examples name the series and timestamp of the offending rows.
- `ingested-series` checks one row per series of statistics computed here (missing share,
  longest gap, off-grid share, outlier rate, largest jump, history, staleness, zero variance, a level
  shift of the newest rows);
  examples name the series, the value and where it happened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from expectations.runner import example_value, frame_locator, gate_result, run_suite
from lstmflow.config import PipelineConfig
from lstmflow.data.schema import SERIES, TARGET, TIME, stamp
from lstmflow.data.segments import longest_run

# check name -> default severity; `quality.severity` overrides per check.
SEVERITY: dict[str, str] = {
    "columns": "error", "types": "error", "unique": "error", "increasing": "error",
    "off_grid": "error", "missing": "error", "gap": "error", "finite": "error", "bounds": "error",
    "outliers": "warning", "jump": "error", "history": "error", "staleness": "error",
    "constant": "warning", "level": "warning",
}
FLOAT_MAX = float(np.finfo(np.float64).max)


def severity(cfg: PipelineConfig, check: str) -> str:
    """The configured severity of a check, else its default (short history follows data.short_series)."""
    if check in cfg.quality.severity:
        return cfg.quality.severity[check]
    if check == "history" and cfg.data.short_series == "drop":
        return "warning"
    return SEVERITY[check]


def _meta(cfg: PipelineConfig, check: str, rule: str, column: str | None = None,
          unit: str = "rows") -> dict[str, Any]:
    meta: dict[str, Any] = {"check": check, "rule": rule, "severity": severity(cfg, check), "unit": unit}
    if column is not None:
        meta["column"] = column
    return meta


def value_columns(cfg: PipelineConfig) -> dict[str, str]:
    """Canonical value column -> its name in the file (what the user knows it by)."""
    target = cfg.data.target_column if cfg.data.layout == "long" else TARGET
    return {TARGET: target, **{c: c for c in cfg.data.covariates}}


def _canonical(cfg: PipelineConfig, name: str) -> str:
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
    width = (hi - lo).where((hi > lo) & (n >= window) & (n + window >= need))
    far = np.maximum(np.maximum(lo - med, med - hi), 0.0) / width
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
        for c in _jump_columns(cfg):
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


def _jump_columns(cfg: PipelineConfig) -> list[str]:
    if cfg.quality.max_jump_ratio is None:
        return []
    return [TARGET, *(_canonical(cfg, c) for c in cfg.quality.jump_columns)]


# ---- suites --------------------------------------------------------------------------------

def frame_expectations(cfg: PipelineConfig) -> list:
    """Row-level expectations on the canonical frame."""
    import great_expectations.expectations as gxe

    names = value_columns(cfg)
    shown = {SERIES: cfg.data.series_column or SERIES, TIME: cfg.data.timestamp_column, **names}
    exps: list = [
        gxe.ExpectColumnToExist(column=c, meta=_meta(cfg, "columns", "required column present", shown[c]))
        for c in shown
    ]
    exps.append(gxe.ExpectColumnValuesToBeOfType(
        column=TIME, type_="datetime64", meta=_meta(cfg, "types", "timestamps are datetimes",
                                                    cfg.data.timestamp_column)))
    exps.append(gxe.ExpectColumnValuesToNotBeNull(
        column=TIME, meta=_meta(cfg, "types", "every timestamp parsed", cfg.data.timestamp_column)))
    exps.append(gxe.ExpectCompoundColumnsToBeUnique(
        column_list=[SERIES, TIME], meta=_meta(cfg, "unique", "(series, timestamp) unique",
                                               cfg.data.timestamp_column)))
    for c, shown in names.items():
        exps.append(gxe.ExpectColumnValuesToBeOfType(
            column=c, type_="float64", meta=_meta(cfg, "types", "numeric (float64)", shown)))
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=c, min_value=-FLOAT_MAX, max_value=FLOAT_MAX,
            meta=_meta(cfg, "finite", "finite values (no inf)", shown)))
    for name, b in cfg.quality.bounds.items():
        lo = "" if b.min is None else f"{'>' if b.strict else '>='} {b.min:g}"
        hi = "" if b.max is None else f"{'<' if b.strict else '<='} {b.max:g}"
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=_canonical(cfg, name), min_value=b.min, max_value=b.max,
            strict_min=b.strict, strict_max=b.strict,
            meta=_meta(cfg, "bounds", f"values {' and '.join(x for x in (lo, hi) if x)}", name)))
    return exps


def profile_expectations(cfg: PipelineConfig, profile: pd.DataFrame) -> list:
    """Per-series expectations on the profile table (one row per series)."""
    import great_expectations.expectations as gxe

    q, names, need = cfg.quality, value_columns(cfg), cfg.min_history()
    ser = {"unit": "series"}
    who = cfg.data.series_column or SERIES
    exps: list = [
        gxe.ExpectColumnValuesToBeBetween(
            column="out_of_order", max_value=0,
            meta=_meta(cfg, "increasing", "timestamps increasing per series",
                       cfg.data.timestamp_column, **ser)),
        gxe.ExpectColumnValuesToBeBetween(
            column="longest_gap", max_value=q.max_gap_steps,
            meta=_meta(cfg, "gap", f"longest run of missing steps <= {q.max_gap_steps}",
                       names[TARGET], **ser)),
        gxe.ExpectColumnValuesToBeBetween(
            column="rows", min_value=need,
            meta=_meta(cfg, "history", f"enough history per series (>= {need} rows = input_size + "
                       "horizon + val_size + test_size)", who, **ser)),
        gxe.ExpectColumnMaxToBeBetween(
            column="rows", min_value=need,
            meta={**_meta(cfg, "history", f"at least one series with >= {need} rows", who, **ser),
                  "severity": "error"}),
    ]
    if "off_grid_ratio" in profile.columns:
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column="off_grid_ratio", max_value=q.max_off_grid_ratio,
            meta=_meta(cfg, "off_grid", f"share of stamps off the '{cfg.data.freq or 'inferred'}' "
                       f"grid <= {q.max_off_grid_ratio:g}", cfg.data.timestamp_column, **ser)))
    for c, shown in names.items():
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=f"missing_ratio:{c}", max_value=q.max_missing_ratio,
            meta=_meta(cfg, "missing", f"missing share per series <= {q.max_missing_ratio:g}",
                       shown, **ser)))
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=f"outlier_ratio:{c}", max_value=q.max_outlier_ratio,
            meta=_meta(cfg, "outliers", f"share of robust outliers (|x - rolling median| > "
                       f"{q.outlier_threshold:g} MAD) <= {q.max_outlier_ratio:g}", shown, **ser)))
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=f"std:{c}", min_value=0, strict_min=True,
            meta=_meta(cfg, "constant", "not constant (zero variance)", shown, **ser)))
    for c in _jump_columns(cfg):
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=f"max_jump:{c}", max_value=q.max_jump_ratio,
            meta=_meta(cfg, "jump", f"largest single-step change <= x{q.max_jump_ratio:g}",
                       names.get(c, c), **ser)))
    if q.max_level_shift is not None:
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column="level_shift", max_value=q.max_level_shift,
            meta=_meta(cfg, "level", f"median of the newest {cfg.forecast.input_size} values "
                       f"within {q.max_level_shift:g} ranges of all earlier values",
                       names[TARGET], **ser)))
    if q.max_staleness is not None:
        oldest = as_of(cfg) - pd.Timedelta(q.max_staleness)
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column="last_observed", min_value=oldest,
            meta=_meta(cfg, "staleness", f"newest observation not older than {q.max_staleness} "
                       f"before {stamp(as_of(cfg))} (>= {stamp(oldest)})", names[TARGET], **ser)))
    return exps


def as_of(cfg: PipelineConfig) -> pd.Timestamp:
    """The run's reference time, naive in the data's zone (canonical stamps are naive)."""
    ref = pd.Timestamp(cfg.quality.as_of or datetime.now(UTC))
    if ref.tzinfo is not None:
        ref = ref.tz_convert(cfg.data.timezone or "UTC").tz_localize(None)
    return ref.as_unit("ns")


# ---- examples ---------------------------------------------------------------------------------

def _profile_locator(profile: pd.DataFrame):
    """Examples of per-series failures: 'series: value', plus 'at timestamp' where known."""
    def locate(column: str | None, index: list[Any], values: list[Any]) -> list[str]:
        at = f"at:{column}"
        out = []
        for i, v in zip(index, values, strict=False):
            where = f" at {stamp(profile.at[i, at])}" if at in profile.columns else ""
            out.append(f"{profile.at[i, SERIES]}: {example_value(v)}{where}")
        return out
    return locate


def validate_ingested(frame: pd.DataFrame, cfg: PipelineConfig, report: dict[str, Any] | None = None,
                      ctx=None) -> dict[str, Any]:
    """Run gate 1 (row suite and per-series suite) and return the gate result.

    `report` is the ingest report (it knows the off-grid stamps dropped at ingestion); `ctx` a
    GE context to run in (one with a Data Docs site keeps the results for the HTML report).
    """
    rows = run_suite("ingested", frame, frame_expectations(cfg), ctx=ctx, locate=frame_locator(frame))
    profile = series_profile(frame, cfg, report)
    exps = profile_expectations(cfg, profile)
    prof_rows = run_suite("ingested-series", profile, exps, ctx=ctx, locate=_profile_locator(profile))
    result = gate_result(rows + prof_rows)
    result["profile"] = _plain_records(profile)
    return result


def _plain_records(profile: pd.DataFrame) -> list[dict[str, Any]]:
    """The profile as JSON-safe records (timestamps as strings, NaN as None)."""
    out = profile.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].map(stamp)
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in out.astype(object).to_dict(orient="records")]
