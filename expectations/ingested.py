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

from expectations.profile import canonical, jump_columns, series_profile, value_columns
from expectations.runner import example_value, frame_locator, gate_result, run_suite
from lstmflow.config import PipelineConfig
from lstmflow.data.schema import SERIES, TARGET, TIME, stamp

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
            column=canonical(cfg, name), min_value=b.min, max_value=b.max,
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
    for c in jump_columns(cfg):
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
