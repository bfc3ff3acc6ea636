"""Which column of a user's file holds the timestamps, and how they are written (plain functions).

ISO 8601 first, then common strftime formats, 8-digit dates, Unix time in a column named like a
time, and ISO stamps with several UTC offsets (read in UTC); each with the reason init prints.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from lstmflow.data.schema import DataError
from lstmflow.data.timestamps import EXCEL, OFFSET, QUARTER, UNIX, quarter_starts

TIME_NAMES = re.compile(r"^(ds|date|time|datetime|timestamp|dt|period|day|hour|month|week|year)\b",
                        re.I)
# strftime formats tried, in order, when a column does not parse as ISO 8601
FORMATS = ("%Y%m%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
           "%d.%m.%Y %H:%M", "%Y%m%d%H%M", "%d-%m-%Y", "%Y/%m/%d", "%Y/%m/%d %H:%M",
           "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%d/%m/%y", "%m/%d/%y",
           "%b-%y", "%b-%Y", "%b %Y", "%B %Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y")
SAMPLE = 500  # values per column tried when looking for timestamps
DATE_PARTS = re.compile(r"^(month|mon|mm|quarter|qtr|q|week|wk|day|dd)$", re.I)  # beside a year
EXCEL_RANGE = (18_264, 73_051)  # serial days of 1950-01-01 and 2100-01-01
YEAR_NAMES = re.compile(r"^(year|yr|yyyy|jahr|annee|año|ano)$", re.I)  # whole numbers as years
HOW = {None: "ISO 8601", QUARTER: "quarters like '2020Q1', each read as its first day",
       EXCEL: "spreadsheet serial days since 1899-12-30",
       "unix_s": "seconds since 1970-01-01 UTC", "unix_ms": "milliseconds since 1970-01-01 UTC"}
# A column of period numbers (hour ending 1..24, settlement period 1..48) is a time of day only
# under a name that says so: small whole numbers beside repeated dates are otherwise a key.
PERIOD_NAMES = re.compile(r"(hour|^he$|^hr$|_hr$|period|interval|^sp$|settlement)", re.I)
# Whole numbers read as Unix time (data.timestamp_format) only in a column named like a time and
# only between these instants: a count or an id is not taken for a clock.
EPOCH_NAMES = re.compile(r"(epoch|unix|time|^ts$|_ts$|^t$)", re.I)
EPOCH_RANGE = (pd.Timestamp("1980-01-01"), pd.Timestamp("2100-01-01"))


def _parses(values: pd.Series, fmt: str) -> bool:
    try:
        ts = pd.to_datetime(values, format=fmt)
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(ts.notna().all()) and ts.min().year >= 1000


def unix_format(values: pd.Series) -> str | bool:
    """'unix_s' or 'unix_ms' when whole numbers are seconds or milliseconds since 1970 that
    fall within EPOCH_RANGE, else False."""
    lo, hi = (t.value // 10**9 for t in EPOCH_RANGE)  # seconds
    for fmt, scale in (("unix_s", 1), ("unix_ms", 1000)):
        if values.between(lo * scale, hi * scale).all():
            return fmt
    return False


def spread(values: pd.Series, n: int = SAMPLE) -> pd.Series:
    """Up to n distinct values spread over the whole column: its first rows can all fall in
    one day or month (5-minute data, 48 periods a day), where day-first and month-first
    dates both parse."""
    distinct = values.drop_duplicates()
    if len(distinct) <= n:
        return distinct
    return distinct.iloc[np.linspace(0, len(distinct) - 1, n).round().astype(int)]


def timestamp_format(col: pd.Series) -> str | bool | None:
    """None: ISO 8601 (pandas' default); a strftime format; False: not timestamps."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return None
    values = spread(col.dropna())
    if values.empty or pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values) and TIME_NAMES.match(str(col.name)) \
            and values.between(*EXCEL_RANGE).all():
        return EXCEL  # spreadsheet serial days: 43861 is 2020-01-31
    if pd.api.types.is_float_dtype(values):  # Unix time with fractions of a second only
        return unix_format(values) if EPOCH_NAMES.search(str(col.name)) else False
    if pd.api.types.is_integer_dtype(values):  # 8-digit dates like 19580329, or Unix time
        if values.between(10_000_101, 99_991_231).all() and _parses(values.astype(str),
                                                                     "%Y%m%d"):
            return "%Y%m%d"
        if YEAR_NAMES.search(str(col.name)) and values.between(1000, 2999).all():
            return "%Y"  # annual data: a column of years
        return unix_format(values) if EPOCH_NAMES.search(str(col.name)) else False
    text = values.astype(str)
    if not text.str.contains(r"\d", regex=True).all():
        return False
    if _parses(text, "ISO8601"):
        return None
    if quarter_starts(text).notna().all():
        return QUARTER
    return next((f for f in FORMATS if _parses(text, f)), False)


def utc_offsets(col: pd.Series) -> list[str]:
    """The distinct UTC offsets of ISO 8601 stamps that carry several ('+01:00', '+02:00' across
    daylight saving), when every stamp carries one and all parse; else []."""
    if col.dtype != object and not pd.api.types.is_string_dtype(col):
        return []
    text = col.dropna().astype(str).str.strip()
    offsets = text.str.extract(OFFSET, expand=False)
    kinds = sorted(offsets.dropna().unique().tolist())
    if len(kinds) < 2 or offsets.isna().any():
        return []
    try:
        ts = pd.to_datetime(text.head(SAMPLE), format="ISO8601", utc=True)
    except (ValueError, TypeError, OverflowError):
        return []
    return kinds if ts.notna().all() and ts.min().year >= 1000 else []


CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")  # a time of day: 17:24, 17:24:00.5


def time_of_day(raw: pd.DataFrame, date_col: str, fmt: str | None) -> tuple[str, str | None] | None:
    """(column, format of '<date> <time>') when `date_col` repeats its dates and another column
    holds times of day (HH:MM[:SS]) that tell those rows apart; else None."""
    from lstmflow.data.read import date_and_time, periods_of_day

    repeats = int(raw[date_col].duplicated().sum())
    if fmt in UNIX or fmt in (QUARTER, EXCEL) or not repeats:
        return None
    formats = [None] if fmt is None else [f"{fmt} %H:%M:%S", f"{fmt} %H:%M",
                                           f"{fmt} %H:%M:%S.%f"]
    for c in raw.columns:
        text = raw[c].dropna().astype(str).str.strip()
        if c == date_col or text.empty:
            continue
        clock = text.head(SAMPLE).str.match(CLOCK).all()
        if not clock and not (PERIOD_NAMES.search(str(c)) and periods_of_day(raw[c]) is not None):
            continue
        joined = date_and_time(raw[date_col], raw[c])
        if joined.duplicated().sum() >= repeats:
            continue
        sample = spread(joined.dropna())
        for f in formats:
            if _parses(sample, f or "ISO8601"):
                return str(c), f
    return None


def find_timestamp(raw: pd.DataFrame, path: str) -> tuple[str, str | None, str, str | None]:
    """The timestamp column (a name like 'date' first), its format, the reason, and the zone
    ('UTC') that stamps with several UTC offsets need (data.timezone)."""
    named = [c for c in raw.columns if TIME_NAMES.match(str(c))]
    order = named + [c for c in raw.columns if c not in named]
    years = [c for c in order if YEAR_NAMES.search(str(c))]  # a year beside a date: the date
    order = [c for c in order if c not in years] + years
    parts = [str(c) for c in raw.columns if DATE_PARTS.match(str(c))]
    split = False  # a year column passed over because month or day columns sit beside it
    for c in order:
        fmt = timestamp_format(raw[c])
        if fmt == "%Y" and parts:  # year, month (, day) in columns of their own
            split = True
            continue
        if fmt is not False:
            how = HOW.get(fmt, f"format {fmt!r}")
            return str(c), fmt, f"column '{c}' parses as timestamps ({how})", None
        offsets = utc_offsets(raw[c])
        if offsets:
            return str(c), None, (
                f"column '{c}' parses as timestamps (ISO 8601) with {len(offsets)} UTC offsets "
                f"{offsets[:4]} (daylight saving, or several zones): converted to UTC "
                "(data.timezone) so that the grid stays regular; name a zone such as "
                "'Europe/Berlin' there to keep local clock time"), "UTC"
    hint = (f"; the dates seem split over columns {parts} and a year column: join them into "
            "one date column ('1990-03' or '1990-03-01')") if split else ""
    raise DataError(
        f"data file '{path}': no column parses as timestamps (tried ISO 8601 and {len(FORMATS)} "
        f"common formats on columns {[str(c) for c in raw.columns[:20]]}); give the file a date "
        f"or datetime column{hint}"
    )
