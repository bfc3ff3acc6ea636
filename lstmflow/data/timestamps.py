"""Timestamps: strict parsing (time zones named), the grid step, and reindexing on the grid."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import DataConfig
from lstmflow.data.schema import SERIES, TIME, DataError

UNIX = {"unix_s": "s", "unix_ms": "ms"}  # data.timestamp_format values: epoch numbers, UTC
EXCEL = "excel"  # data.timestamp_format for spreadsheet serial days (1 = 1900-01-01; fractions: time)
QUARTER = "quarter"  # data.timestamp_format for '2020Q1', '2020-Q1', 'Q1 2020': the quarter's start
QUARTERS = (re.compile(r"^\s*(?P<y>\d{4})\s*[-/ ]?\s*Q(?P<q>[1-4])\s*$", re.I),
            re.compile(r"^\s*Q(?P<q>[1-4])\s*[-/ ]?\s*(?P<y>\d{4})\s*$", re.I))


def quarter_starts(values: pd.Series) -> pd.Series:
    """The first day of each quarter written '2020Q1', '2020-Q1' or 'Q1 2020'; NaT where a
    value is none of these."""
    text = values.astype(str)
    first, last = text.str.extract(QUARTERS[0]), text.str.extract(QUARTERS[1])
    year = pd.to_numeric(first["y"].fillna(last["y"]), errors="coerce")
    quarter = pd.to_numeric(first["q"].fillna(last["q"]), errors="coerce")
    ok = (year.notna() & quarter.notna()).to_numpy()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if ok.any():
        out.iloc[ok] = pd.to_datetime(pd.DataFrame({
            "year": year[ok].astype(int), "month": (quarter[ok].astype(int) - 1) * 3 + 1,
            "day": 1})).to_numpy()
    return out


def stamp_columns(cfg: DataConfig) -> str:
    """Where timestamp errors point: the file and its timestamp column, or both columns when
    a time-of-day column holds the times (data.time_of_day_column)."""
    if cfg.time_of_day_column:
        return (f"data file '{cfg.path}', columns '{cfg.timestamp_column}' + "
                f"'{cfg.time_of_day_column}'")
    return f"data file '{cfg.path}', column '{cfg.timestamp_column}'"


def _parse_unix(values: pd.Series, cfg: DataConfig) -> pd.Series:
    """Seconds or milliseconds since 1970-01-01 UTC, as UTC instants (`_parse_times` converts
    them to data.timezone's clock time like any zoned stamp)."""
    where = stamp_columns(cfg)
    unit = UNIX[cfg.timestamp_format]
    num = _numbers(values, cfg, "numbers since 1970-01-01 UTC")
    try:
        return pd.to_datetime(num, unit=unit, utc=True).astype("datetime64[ns, UTC]")
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        other = "unix_s" if unit == "ms" else "unix_ms"
        raise DataError(f"{where}: {num.max():.0f} is out of range as {unit} since 1970 (did you "
                        f"mean data.timestamp_format '{other}'?)") from None


def _numbers(values: pd.Series, cfg: DataConfig, reads: str) -> pd.Series:
    """The stamps as numbers, or DataError naming the texts among them."""
    num = pd.to_numeric(values, errors="coerce")
    bad = values[num.isna() & values.notna()]
    if len(bad):
        raise DataError(f"{stamp_columns(cfg)}: {len(bad)} timestamp(s) are not numbers (e.g. "
                        f"{bad.iloc[0]!r}); data.timestamp_format '{cfg.timestamp_format}' "
                        f"reads {reads}")
    return num


def _digits(values: pd.Series) -> pd.Series:
    """Whole numbers as their digits ('1990', not '1990.0'; missing stays missing)."""
    whole = values.dropna()
    if len(whole) and not np.allclose(whole, whole.round()):
        return values.astype(str)
    return values.astype("Int64").astype("string").astype(object).where(values.notna())


def _parse_times(values: pd.Series, cfg: DataConfig) -> pd.Series:
    """Parse timestamps strictly; name the column and show a bad example on failure."""
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = values
    elif cfg.timestamp_format in UNIX:
        ts = _parse_unix(values, cfg)
    elif cfg.timestamp_format == EXCEL:
        num = _numbers(values, cfg, "spreadsheet serial days")
        ts = pd.to_datetime(num, unit="D", origin="1899-12-30").dt.round("s")
    elif cfg.timestamp_format == QUARTER:
        ts = quarter_starts(values)
        bad = values[ts.isna() & values.notna()]
        if len(bad):
            raise DataError(f"{stamp_columns(cfg)}: {len(bad)} timestamp(s) are not quarters "
                            f"like '2020Q1' or 'Q1 2020' (e.g. {bad.iloc[0]!r})")
    else:
        fmt = cfg.timestamp_format or "ISO8601"
        if pd.api.types.is_numeric_dtype(values):  # 19580329 or 1990 under '%Y%m%d' / '%Y':
            values = _digits(values)  # pandas will read numbers as epochs, not as text
        try:
            ts = pd.to_datetime(values, format=fmt)
        except (ValueError, TypeError) as exc:
            if "timezone" in str(exc).lower() or "tz-aware" in str(exc).lower():
                ts = _parse_mixed_zones(values, fmt, cfg)
            else:
                bad = _first_unparseable(values, fmt)
                hint = "; set data.timestamp_format (strftime codes)" if fmt == "ISO8601" else ""
                raise DataError(
                    f"{stamp_columns(cfg)}: timestamps do not "
                    f"parse with format {fmt!r} (e.g. {bad!r}){hint}"
                ) from None
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert(cfg.timezone or "UTC").dt.tz_localize(None)
    return ts.astype("datetime64[ns]")


# A UTC offset after a clock time: '...T10:00:00+05:00', '... 10:00Z' (not the '-01' of a date).
OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")


def _parse_mixed_zones(values: pd.Series, fmt: str, cfg: DataConfig) -> pd.Series:
    """Stamps in several zones: refuse naive next to aware, or offsets with no data.timezone."""
    where = stamp_columns(cfg)
    text = values.dropna().astype(str).str.strip()
    offsets = text.str.extract(OFFSET, expand=False)
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


def grid_step(times: np.ndarray, codes: np.ndarray) -> pd.Timedelta | None:
    """The time step of a grid: the most common difference between consecutive timestamps [N] of
    the same series (rows of a series contiguous, in time order); None when no series has two.

    The one place a step is inferred: ingestion names the grid from it, features choose calendar
    parts and periods per year from it.
    """
    same = codes[1:] == codes[:-1]
    d = np.diff(times)[same]  # [M] steps inside series
    if not len(d):
        return None
    values, counts = np.unique(d, return_counts=True)
    return pd.Timedelta(values[np.argmax(counts)])  # the smallest of equally common steps


def series_step(frame: pd.DataFrame) -> pd.Timedelta | None:
    """`grid_step` of a canonical frame."""
    return grid_step(frame[TIME].to_numpy(), pd.factorize(frame[SERIES])[0])


def business_daily(times: np.ndarray, step: pd.Timedelta | None) -> bool:
    """A one-day step with no stamp on a Saturday or Sunday: a business-day grid."""
    if step != pd.Timedelta(days=1):
        return False
    dow = (np.asarray(times).astype("datetime64[D]").astype("int64") + 3) % 7  # [N] Monday = 0
    return not (dow >= 5).any()


def infer_freq(ts: pd.DataFrame) -> str:
    """Name the grid (a pandas alias) of a sorted frame from its step (see `grid_step`)."""
    step = series_step(ts)
    if step is None:
        raise DataError("cannot infer the frequency: no series has two timestamps")
    if business_daily(ts[TIME].to_numpy(), step):
        return "B"
    exact = pd.infer_freq(ts[TIME].drop_duplicates().sort_values().head(1000))
    if exact:
        return exact
    return pd.tseries.frequencies.to_offset(step).freqstr


def fixed_step(freq: str) -> pd.Timedelta | None:
    """The step of a fixed-length frequency ('5min', 'h', 'D' as 24 hours: timestamps here
    carry no zone), None for calendar ones ('B', 'W', 'MS')."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        return pd.Timedelta(offset)
    if isinstance(offset, pd.offsets.Day):  # pandas 3: a calendar day, 24 h without a zone
        return pd.Timedelta(days=offset.n)
    return None


def snap_to_grid(df: pd.DataFrame, freq: str, path: str) -> tuple[pd.DataFrame, int, int]:
    """Move each series' stamps to the nearest step of its grid (`grid_anchor` + k steps),
    keeping the row closest to its step where several land on one. Returns the frame (sorted
    by series and time), the rows moved and the rows dropped as farther from their step."""
    step = fixed_step(freq)
    if step is None:
        raise DataError(f"data file '{path}': data.off_grid 'round' needs a fixed step such as "
                        f"'5min', 'h' or 'D'; '{freq}' is a calendar frequency (set "
                        "data.off_grid: drop)")
    anchor = df.groupby(SERIES, sort=False)[TIME].transform(lambda t: grid_anchor(t, step))
    k = ((df[TIME] - anchor) / step).round()  # [N] nearest step number (negative before it)
    snapped = anchor + k * step
    distance = (df[TIME] - snapped).abs()
    moved = int((distance > pd.Timedelta(0)).sum())
    out = df.assign(**{TIME: snapped, "_distance": distance})
    out = out.sort_values([SERIES, TIME, "_distance"], kind="stable")
    keep = ~out.duplicated([SERIES, TIME], keep="first")
    return out[keep].drop(columns="_distance"), moved, int((~keep).sum())


def grid_anchor(times: pd.Series, step: pd.Timedelta) -> pd.Timestamp:
    """The first stamp on the phase (time modulo `step`) most stamps share: a series' grid
    starts there, so a lone off-phase first reading does not move every other one off it."""
    times = times.sort_values()
    phase = (times - times.iloc[0]) % step  # [N] offset from the first stamp's phase
    counts = phase.value_counts()
    best = counts.index[0] if counts.iloc[0] > counts.get(pd.Timedelta(0), 0) else pd.Timedelta(0)
    return times[phase == best].iloc[0]


def _regrid(df: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Reindex each series on its own regular grid; returns the frame and off-grid rows per series.
    A fixed-step grid starts at `grid_anchor` (rows before it are off the grid); a calendar one
    ('B', 'W', 'MS') at the first stamp."""
    parts, off_grid = [], {}
    step = fixed_step(freq)
    for sid, g in df.groupby(SERIES, sort=True):
        start = g[TIME].iloc[0] if step is None else grid_anchor(g[TIME], step)
        grid = pd.date_range(start, g[TIME].iloc[-1], freq=freq)
        on = g[TIME].isin(grid)
        off_grid[str(sid)] = int((~on).sum())
        part = g[on].set_index(TIME).reindex(grid)
        part.index.name = TIME
        part[SERIES] = sid
        parts.append(part.reset_index())
    out = pd.concat(parts, ignore_index=True)
    return out[[SERIES, TIME] + [c for c in df.columns if c not in (SERIES, TIME)]], off_grid
