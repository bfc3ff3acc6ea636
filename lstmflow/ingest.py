"""Read a CSV/Parquet file into the canonical long frame on a regular grid per series.

Canonical frame: columns `series_id, timestamp, target, <covariates>`, sorted by series then
time, one row per grid step (gaps become explicit NaN rows). Whatever is fixed on the way
(sorting, exact duplicates, off-grid stamps) is counted in the ingest report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import DataConfig

SERIES, TIME, TARGET = "series_id", "timestamp", "target"


class DataError(ValueError):
    """Input data that cannot be used; the message names the file, column and rule."""


@dataclass
class IngestResult:
    frame: pd.DataFrame
    freq: str
    report: dict[str, Any] = field(default_factory=dict)


def stamp(ts: Any) -> str:
    """A timestamp as a short string for messages: the date alone at midnight."""
    if ts is None or pd.isna(ts):
        return "?"
    ts = pd.Timestamp(ts)
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()


def _is_url(path: str) -> bool:
    return "://" in path


def check_path(path: str) -> None:
    """Refuse a path or URL that does not exist or is not a file, before anything is read."""
    if _is_url(path):
        _check_url(path)
        return
    p = Path(path)
    if not p.exists():
        raise DataError(f"data file '{path}' does not exist")
    if not p.is_file():
        raise DataError(f"data path '{path}' is not a file")


def _check_url(url: str) -> None:
    """Ask the fsspec filesystem whether the URL exists; unknown protocols are left to the reader."""
    try:
        import fsspec

        fs, where = fsspec.core.url_to_fs(url)
        exists = fs.exists(where)
    except Exception:  # no such protocol, no credentials, no network: the read reports it
        return
    if not exists:
        raise DataError(f"data file '{url}' does not exist")


def _has_bom(path: str) -> bool:
    """Whether the file starts with a UTF-8 byte-order mark (read as text without it)."""
    try:
        import fsspec

        with fsspec.open(path, "rb", compression="infer") as fh:
            return fh.read(3) == b"\xef\xbb\xbf"
    except Exception:
        return False


def _format_of(cfg: DataConfig) -> str:
    if cfg.format != "auto":
        return cfg.format
    name = cfg.path.lower()
    for suffix in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        name = name.removesuffix(suffix)
    return "parquet" if name.endswith((".parquet", ".pq")) else "csv"


def read_table(cfg: DataConfig) -> pd.DataFrame:
    """Read the raw table as strings-or-numbers, exactly as the file holds it."""
    check_path(cfg.path)
    fmt = _format_of(cfg)
    try:
        if fmt == "parquet":
            return pd.read_parquet(cfg.path)
        return pd.read_csv(
            cfg.path,
            sep=cfg.delimiter,
            decimal=cfg.decimal,
            na_values=cfg.na_values,
            keep_default_na=False,
            encoding="utf-8-sig",
            low_memory=False,
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"data file '{cfg.path}' is empty") from None
    except FileNotFoundError:
        raise DataError(f"data file '{cfg.path}' does not exist") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"data file '{cfg.path}' could not be read as csv: it is not UTF-8 text (byte "
            f"{exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}); is it a CSV file?"
        ) from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"data file '{cfg.path}' could not be read as {fmt}: {first}") from None


def _require_columns(raw: pd.DataFrame, cfg: DataConfig) -> None:
    need = [cfg.timestamp_column]
    if cfg.layout == "long":
        need += [cfg.target_column, *cfg.covariates]
        if cfg.series_column:
            need.append(cfg.series_column)
    else:
        need += list(cfg.wide_columns or [])
    missing = [c for c in need if c not in raw.columns]
    if missing:
        hint = ""
        if len(raw.columns) == 1 and _format_of(cfg) == "csv":
            hint = f"; the file parsed into a single column: is it a CSV with delimiter {cfg.delimiter!r}?"
        elif len(missing) == len(need):
            hint = "; none of the expected columns is there: is this the right file?"
        raise DataError(
            f"data file '{cfg.path}': required column(s) {missing} missing "
            f"(columns present: {[str(c) for c in raw.columns[:20]]}){hint}"
        )


def _to_long(raw: pd.DataFrame, cfg: DataConfig) -> pd.DataFrame:
    """Bring either layout to series_id, timestamp, target, covariates (unparsed)."""
    if cfg.layout == "wide":
        cols = cfg.wide_columns or [c for c in raw.columns if c != cfg.timestamp_column]
        long = raw.melt(id_vars=[cfg.timestamp_column], value_vars=cols, var_name=SERIES,
                        value_name=TARGET)
        return long.rename(columns={cfg.timestamp_column: TIME})
    out = pd.DataFrame(
        {
            SERIES: raw[cfg.series_column].astype(str) if cfg.series_column
            else Path(cfg.path).stem.split(".")[0] or "series",
            TIME: raw[cfg.timestamp_column],
            TARGET: raw[cfg.target_column],
        }
    )
    for c in cfg.covariates:
        out[c] = raw[c]
    return out


def _parse_times(values: pd.Series, cfg: DataConfig) -> pd.Series:
    """Parse timestamps strictly; name the column and show a bad example on failure."""
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = values
    else:
        fmt = cfg.timestamp_format or "ISO8601"
        try:
            ts = pd.to_datetime(values, format=fmt)
        except (ValueError, TypeError) as exc:
            if "timezone" in str(exc).lower() or "tz-aware" in str(exc).lower():
                ts = _parse_mixed_zones(values, fmt, cfg)
            else:
                bad = _first_unparseable(values, fmt)
                hint = "; set data.timestamp_format (strftime codes)" if fmt == "ISO8601" else ""
                raise DataError(
                    f"data file '{cfg.path}', column '{cfg.timestamp_column}': timestamps do not "
                    f"parse with format {fmt!r} (e.g. {bad!r}){hint}"
                ) from None
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert(cfg.timezone or "UTC").dt.tz_localize(None)
    return ts.astype("datetime64[ns]")


# A UTC offset after a clock time: '...T10:00:00+05:00', '... 10:00Z' (not the '-01' of a date).
_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")


def _parse_mixed_zones(values: pd.Series, fmt: str, cfg: DataConfig) -> pd.Series:
    """Stamps in several zones: refuse naive next to aware, or offsets with no data.timezone."""
    where = f"data file '{cfg.path}', column '{cfg.timestamp_column}'"
    text = values.dropna().astype(str).str.strip()
    offsets = text.str.extract(_OFFSET, expand=False)
    aware, naive = text[offsets.notna()], text[offsets.isna()]
    if len(aware) and len(naive):
        raise DataError(
            f"{where}: mixed time zones: {len(aware)} timestamp(s) carry a UTC offset (e.g. "
            f"{aware.iloc[0]!r}) and {len(naive)} do not (e.g. {naive.iloc[0]!r}); a stamp "
            "without a zone cannot be placed in time: give every stamp the same convention"
        )
    kinds = sorted(offsets.dropna().unique().tolist())
    if cfg.timezone is None:
        raise DataError(
            f"{where}: mixed time zones: timestamps carry different UTC offsets {kinds[:5]} "
            f"(e.g. {text.iloc[0]!r}); set data.timezone (e.g. 'UTC') to convert them all to one zone"
        )
    try:
        return pd.to_datetime(values, format=fmt, utc=True)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"{where}: mixed time zones could not be converted to '{cfg.timezone}': "
            f"{str(exc).splitlines()[0]}"
        ) from None


def _first_unparseable(values: pd.Series, fmt: str) -> Any:
    for v in values.head(10_000):
        try:
            pd.to_datetime(v, format=fmt)
        except (ValueError, TypeError):
            return v
    return values.iloc[0] if len(values) else None


def _to_numeric(df: pd.DataFrame, cols: list[str], cfg: DataConfig, names: dict[str, str]) -> None:
    """Coerce value columns to float64, refusing text that is not a number."""
    for c in cols:
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            df[c] = df[c].astype("float64")
            continue
        num = pd.to_numeric(df[c], errors="coerce")
        bad = df[c][num.isna() & df[c].notna()]
        if len(bad):
            raise DataError(
                f"data file '{cfg.path}', column '{names.get(c, c)}': {len(bad)} value(s) are not "
                f"numbers (e.g. {list(bad.astype(str).unique()[:3])})"
            )
        df[c] = num.astype("float64")


def infer_freq(ts: pd.DataFrame) -> str:
    """Guess the grid step from the most common timestamp difference across series."""
    diffs = ts.groupby(SERIES)[TIME].diff().dropna()
    if diffs.empty:
        raise DataError("cannot infer the frequency: no series has two timestamps")
    step = diffs.mode().iloc[0]
    if step == pd.Timedelta(days=1) and not (ts[TIME].dt.dayofweek >= 5).any():
        return "B"
    exact = pd.infer_freq(ts[TIME].drop_duplicates().sort_values().head(1000))
    if exact:
        return exact
    return pd.tseries.frequencies.to_offset(step).freqstr


def _regrid(df: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Reindex each series on its own regular grid; returns the frame and off-grid rows per series."""
    parts, off_grid = [], {}
    for sid, g in df.groupby(SERIES, sort=True):
        grid = pd.date_range(g[TIME].iloc[0], g[TIME].iloc[-1], freq=freq)
        on = g[TIME].isin(grid)
        off_grid[str(sid)] = int((~on).sum())
        part = g[on].set_index(TIME).reindex(grid)
        part.index.name = TIME
        part[SERIES] = sid
        parts.append(part.reset_index())
    out = pd.concat(parts, ignore_index=True)
    return out[[SERIES, TIME] + [c for c in df.columns if c not in (SERIES, TIME)]], off_grid


def _refuse_conflicts(df: pd.DataFrame, cfg: DataConfig) -> None:
    """Two rows of one (series, timestamp) with different values: no way to tell which is right."""
    clash = df.duplicated([SERIES, TIME], keep=False)
    if not clash.any():
        return
    ex = df.loc[clash, [SERIES, TIME]].drop_duplicates().head(3)
    examples = [f"{s} @ {stamp(t)}" for s, t in zip(ex[SERIES], ex[TIME], strict=True)]
    raise DataError(
        f"data file '{cfg.path}', column '{cfg.timestamp_column}': {int(clash.sum())} rows share a "
        f"(series, timestamp) with different values (e.g. {examples}); duplicate timestamps must "
        "hold identical values"
    )


def canonicalize(raw: pd.DataFrame, cfg: DataConfig) -> IngestResult:
    """Turn a raw table into the canonical frame, reporting what was fixed."""
    if raw.empty:
        raise DataError(f"data file '{cfg.path}' has a header but no rows")
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
        raise DataError(f"data file '{cfg.path}', column '{cfg.timestamp_column}': {n} empty timestamp(s)")
    values = [TARGET, *cfg.covariates]
    _to_numeric(df, values, cfg, names)
    report: dict[str, Any] = {"rows_read": len(raw)}
    report["missing_in_file"] = {names.get(c, c): int(df[c].isna().sum()) for c in values}
    sid, ts = df[SERIES], df[TIME]
    in_order = (sid.shift() < sid) | ((sid.shift() == sid) & (ts.shift() <= ts))
    report["was_sorted"] = bool(in_order.iloc[1:].all())
    df = df.sort_values([SERIES, TIME], kind="stable")
    exact = df.duplicated(keep="first")
    report["exact_duplicates_dropped"] = int(exact.sum())
    df = df[~exact]
    _refuse_conflicts(df, cfg)
    freq = cfg.freq or infer_freq(df)
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
    return IngestResult(frame=grid.reset_index(drop=True), freq=freq, report=report)


def describe_ingest(report: dict[str, Any]) -> list[str]:
    """What ingestion fixed, one line each (empty when the file needed nothing)."""
    lines = []
    if report.get("bom"):
        lines.append("the file starts with a UTF-8 byte-order mark (ignored)")
    if report.get("was_sorted") is False:
        lines.append("rows were not in (series, timestamp) order: sorted")
    if report.get("exact_duplicates_dropped"):
        lines.append(f"{report['exact_duplicates_dropped']} exact duplicate row(s) dropped")
    if report.get("off_grid_rows_dropped"):
        lines.append(f"{report['off_grid_rows_dropped']} row(s) off the '{report['freq']}' grid dropped")
    if report.get("gap_rows_added"):
        lines.append(f"{report['gap_rows_added']} missing grid step(s) added as empty rows")
    missing = {c: n for c, n in (report.get("missing_in_file") or {}).items() if n}
    if missing:
        lines.append(f"missing values in the file per column: {missing}")
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
    """Write the canonical frame as Parquet next to the run (atomic rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def series_lengths(frame: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in frame.groupby(SERIES).size().items()}


def drop_short_series(
    frame: pd.DataFrame, min_rows: int, policy: str, path: str
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Leave out (or refuse) series with fewer than `min_rows` rows; returns warnings."""
    lengths = series_lengths(frame)
    short = {s: n for s, n in lengths.items() if n < min_rows}
    if short and (policy == "fail" or len(short) == len(lengths)):
        detail = ", ".join(f"'{s}' has {n}" for s, n in list(short.items())[:5])
        raise DataError(
            f"data file '{path}': series too short for input_size + horizon + val_size + "
            f"test_size = {min_rows} rows ({detail})"
        )
    warnings = [
        {"series_id": s, "rows": n, "needed": min_rows,
         "message": f"series '{s}' left out: {n} rows < {min_rows} needed"}
        for s, n in short.items()
    ]
    keep = frame[~frame[SERIES].isin(list(short))].reset_index(drop=True)
    return keep, warnings
