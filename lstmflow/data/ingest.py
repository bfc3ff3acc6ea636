"""Read a CSV/Parquet file into the canonical long frame on a regular grid per series.

Canonical frame: columns `series_id, timestamp, target, <covariates>`, sorted by series then
time, one row per grid step (gaps become explicit NaN rows). Whatever is fixed on the way
(sorting, exact duplicates, off-grid stamps) is counted in the ingest report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import DataConfig
from lstmflow.data.read import (
    _format_of,
    _has_bom,
    _not_a_table,
    _require_columns,
    _to_long,
    read_table,
)
from lstmflow.data.schema import SERIES, TARGET, TIME, DataError, stamp
from lstmflow.data.timestamps import (
    _parse_times,
    _regrid,
    infer_freq,
    series_step,
    snap_to_grid,
    stamp_columns,
)
from lstmflow.durable import write_atomic


@dataclass
class IngestResult:
    frame: pd.DataFrame
    freq: str
    report: dict[str, Any] = field(default_factory=dict)
    # rows after each series' last observed target (data.known_covariates only): what the
    # known-ahead inputs of the next forecast read, never training data
    future: pd.DataFrame | None = None


def _to_numeric(df: pd.DataFrame, cols: list[str], cfg: DataConfig, names: dict[str, str]) -> None:
    """Coerce value columns to float64, refusing text that is not a number."""
    for c in cols:
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype("float64")
            continue
        marked = df[c].astype(str).isin(cfg.na_values) & df[c].notna()  # Parquet: not read as NA
        num = pd.to_numeric(df[c].mask(marked), errors="coerce")
        bad = df[c][num.isna() & df[c].notna() & ~marked]
        if len(bad):
            raise DataError(
                f"data file '{cfg.path}', column '{names.get(c, c)}': {len(bad)} value(s) are not "
                f"numbers (e.g. {list(bad.astype(str).unique()[:3])}); if they mean a missing "
                "value, add them to data.na_values"
            )
        df[c] = num.astype("float64")


def _resolve_conflicts(df: pd.DataFrame, cfg: DataConfig, values: list[str]
                      ) -> tuple[pd.DataFrame, int]:
    """Rows of one (series, timestamp) with different values: refused under data.duplicates
    'error' (no way to tell which is right), else one row per stamp as the policy says.
    Returns the frame (sorted by series and time) and the number of rows that clashed."""
    clash = df.duplicated([SERIES, TIME], keep=False)
    if not clash.any():
        return df, 0
    if cfg.duplicates == "error":
        ex = df.loc[clash, [SERIES, TIME]].drop_duplicates().head(3)
        examples = [f"{s} @ {stamp(t)}" for s, t in zip(ex[SERIES], ex[TIME], strict=True)]
        raise DataError(
            f"{stamp_columns(cfg)}: {int(clash.sum())} rows "
            f"share a (series, timestamp) with different values (e.g. {examples}); duplicate "
            "timestamps must hold identical values, or set data.duplicates (first, last, mean)"
        )
    if cfg.duplicates in ("first", "last"):
        return df[~df.duplicated([SERIES, TIME], keep=cfg.duplicates)], int(clash.sum())
    means = df[clash].groupby([SERIES, TIME], sort=False, observed=True)[values].mean()
    kept = df[~df.duplicated([SERIES, TIME], keep="first")].set_index([SERIES, TIME])
    kept.loc[means.index, values] = means
    return kept.reset_index()[df.columns], int(clash.sum())


def canonicalize(raw: pd.DataFrame, cfg: DataConfig) -> IngestResult:
    """Turn a raw table into the canonical frame, reporting what was fixed."""
    if raw.empty:
        raise DataError(_not_a_table(cfg) or f"data file '{cfg.path}' has a header but no rows")
    _require_columns(raw, cfg)
    df = _to_long(raw, cfg)
    names = {TARGET: cfg.target_column if cfg.layout == "long" else "target"}
    if cfg.series:
        df = df[df[SERIES].isin(cfg.series)]
        if df.empty:
            raise DataError(f"data file '{cfg.path}': none of the series {cfg.series} found")
    df[TIME] = _parse_times(df[TIME], cfg)
    if df[TIME].isna().any():
        n = int(df[TIME].isna().sum())
        raise DataError(f"{stamp_columns(cfg)}: {n} empty timestamp(s)")
    values = [TARGET, *cfg.value_columns]
    _to_numeric(df, values, cfg, names)
    report: dict[str, Any] = {"rows_read": len(raw)}
    report["missing_in_file"] = {names.get(c, c): int(df[c].isna().sum()) for c in values}
    sid, ts = df[SERIES], df[TIME]
    in_order = (sid.shift() < sid) | ((sid.shift() == sid) & (ts.shift() <= ts))
    report["was_sorted"] = bool(in_order.iloc[1:].all())
    df = df.sort_values([SERIES, TIME], kind="stable")
    if cfg.layout == "wide":  # a column's empty cells before its first value or after its last
        df, outside = _observed_span(df)  # are a series that had not begun or had ended
        report["wide_rows_outside_series"] = outside
    exact = df.duplicated(keep="first")
    report["exact_duplicates_dropped"] = int(exact.sum())
    df = df[~exact]
    df, clashed = _resolve_conflicts(df, cfg, values)
    if clashed:
        report["conflicting_duplicates"] = {"rows": clashed, "kept": cfg.duplicates}
    step = series_step(df)  # of the rows as read: prediction compares it with the champion's
    report["step"] = str(step) if step is not None else None
    freq = cfg.freq or infer_freq(df)
    if cfg.off_grid == "round":
        df, moved, lost = snap_to_grid(df, freq, cfg.path)
        report["rounded_to_grid"] = {"rows": moved, "dropped_as_farther": lost}
    try:
        grid, off_grid = _regrid(df, freq)
    except ValueError as exc:
        raise DataError(f"data.freq '{freq}' is not a pandas frequency: {exc}") from None
    dropped = sum(off_grid.values())
    report.update(
        freq=freq,
        freq_inferred=cfg.freq is None,
        rows_by_series={str(k): int(v) for k, v in df.groupby(SERIES).size().items()},
        off_grid_by_series=off_grid,
        off_grid_rows_dropped=dropped,
        gap_rows_added=int(len(grid) - (len(df) - dropped)),
        series=int(grid[SERIES].nunique()),
        rows=len(grid),
    )
    future = None
    if cfg.known_covariates:
        grid, future = split_future(grid.reset_index(drop=True))
        report.update(future_rows=len(future), rows=len(grid))
    return IngestResult(frame=grid.reset_index(drop=True), freq=freq, report=report,
                        future=future)


def through_last(seen: pd.Series, keys: pd.Series) -> pd.Series:
    """[N] bool: True on each series' rows (`keys`) up to and including its last True of
    `seen`, in row order (the rows after it are those after the series' last observation)."""
    return seen[::-1].groupby(keys[::-1], sort=False).cummax()[::-1]


def split_future(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows up to each series' last observed target, the rows after it): a file with known-ahead
    covariates holds the forecast steps as rows with the target left empty."""
    ongoing = through_last(frame[TARGET].notna(), frame[SERIES])
    return frame[ongoing].reset_index(drop=True), frame[~ongoing].reset_index(drop=True)


def _observed_span(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Each series' rows from its first observed target to its last (rows sorted by series and
    time): in a wide file a series that starts later (a listing, a new sensor) or ends earlier
    fills its column with empty cells, which are not missing data. Returns the rows kept and
    the count dropped."""
    seen = df[TARGET].notna()
    began = seen.groupby(df[SERIES], sort=False).cummax()
    keep = began & through_last(seen, df[SERIES])
    return df[keep], int((~keep).sum())


def describe_ingest(report: dict[str, Any]) -> list[str]:
    """What ingestion fixed, one line each (empty when the file needed nothing)."""
    lines = []
    if report.get("bom"):
        lines.append("the file starts with a UTF-8 byte-order mark (ignored)")
    if report.get("was_sorted") is False:
        lines.append("rows were not in (series, timestamp) order: sorted")
    if report.get("wide_rows_outside_series"):
        lines.append(f"{report['wide_rows_outside_series']} empty cell(s) before a column's first "
                     "value or after its last dropped (wide layout: the series had not begun or "
                     "had ended)")
    if report.get("exact_duplicates_dropped"):
        lines.append(f"{report['exact_duplicates_dropped']} exact duplicate row(s) dropped")
    if report.get("conflicting_duplicates"):
        c = report["conflicting_duplicates"]
        lines.append(f"{c['rows']} row(s) shared a (series, timestamp) with different values: "
                     f"one row per stamp kept (data.duplicates: {c['kept']})")
    if report.get("rounded_to_grid", {}).get("rows"):
        r = report["rounded_to_grid"]
        lines.append(f"{r['rows']} row(s) moved to the nearest '{report['freq']}' grid step "
                     f"(data.off_grid: round), {r['dropped_as_farther']} dropped as farther from "
                     "a step another row had")
    if report.get("off_grid_rows_dropped"):
        lines.append(f"{report['off_grid_rows_dropped']} row(s) off the '{report['freq']}' grid dropped")
    if report.get("gap_rows_added"):
        lines.append(f"{report['gap_rows_added']} missing grid step(s) added as empty rows")
    missing = {c: n for c, n in (report.get("missing_in_file") or {}).items() if n}
    if missing:
        lines.append(f"missing values in the file per column: {missing}")
    if report.get("future_rows"):
        lines.append(f"{report['future_rows']} row(s) after the last observed target set aside as "
                     "future rows (the known-ahead inputs of the forecast steps)")
    return lines


def fingerprint(frame: pd.DataFrame) -> str:
    """Content hash of the canonical frame (values and column names), stable across runs."""
    h = hashlib.sha256()
    h.update(",".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def ingest(cfg: DataConfig) -> IngestResult:
    """Read, canonicalize and fingerprint one data file."""
    result = canonicalize(read_table(cfg), cfg)
    result.report["fingerprint"] = fingerprint(result.frame)
    result.report["source"] = cfg.path
    result.report["bom"] = _format_of(cfg) == "csv" and _has_bom(cfg.path)
    return result


def save_snapshot(frame: pd.DataFrame, path: Path) -> Path:
    """Write the canonical frame as Parquet into the run folder (temp file, fsync, rename)."""
    return write_atomic(path, lambda f: frame.to_parquet(f, index=False))


def series_lengths(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame.groupby(SERIES).size().items()}


def drop_short_series(
    frame: pd.DataFrame, min_rows: int, policy: str, path: str,
    need: str = "input_size + horizon + val_size + test_size",
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Leave out (or refuse) series with fewer than `min_rows` rows (`need`: the formula that
    gave it, for the message); returns warnings."""
    lengths = series_lengths(frame)
    short = {s: n for s, n in lengths.items() if n < min_rows}
    if short and (policy == "fail" or len(short) == len(lengths)):
        detail = ", ".join(f"'{s}' has {n}" for s, n in list(short.items())[:5])
        raise DataError(
            f"data file '{path}': series too short for {need} = {min_rows} rows ({detail})"
        )
    warnings = [
        {"series_id": s, "rows": n, "needed": min_rows,
         "message": f"series '{s}' left out: {n} rows < {min_rows} needed"}
        for s, n in short.items()
    ]
    keep = frame[~frame[SERIES].isin(list(short))].reset_index(drop=True)
    return keep, warnings
