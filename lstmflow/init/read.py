"""A user's table without a config: its columns given roles (plain functions; the file is read by
init/dialect.py).

Each decision comes with the reason `lstmflow init` prints; what cannot be decided from the file
is refused with a message that names the file and says which flag settles it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from lstmflow.data.read import date_and_time, periods_of_day
from lstmflow.data.schema import DataError
from lstmflow.init.covariates import choose_covariates, split_known
from lstmflow.init.times import find_timestamp, time_of_day
from lstmflow.text import listed

TARGET_NAMES = ("target", "y", "value", "values")
UNIT_NUMBER = r"^[-+]?\d[\d.,]*\s?(%|[KkMmBbTt])$"  # '3.44B', '-0.57%', '12K': not plain numbers
MAX_MARKERS = 3  # distinct texts a numeric column may hold as missing-value markers ('nil', '-')


@dataclass
class Columns:
    """Roles of the file's columns and why; `notes` are printed by `lstmflow init`."""

    timestamp: str
    timestamp_format: str | None
    target: str | None
    series: str | None
    covariates: list[str]
    numeric: list[str]
    notes: list[str] = field(default_factory=list)
    na_markers: list[str] = field(default_factory=list)  # texts read as missing (data.na_values)
    duplicates: str | None = None  # data.duplicates when a few timestamps repeat with other values
    undecided: list[str] = field(default_factory=list)
    timezone: str | None = None  # data.timezone when the stamps carry several UTC offsets
    time_of_day: str | None = None  # data.time_of_day_column: times apart from the dates
    wide: bool = False  # data.layout wide: every column beside the time is a series
    known: list[str] = field(default_factory=list)  # data.known_covariates: future rows hold them


def numeric_columns(raw: pd.DataFrame, skip: set[str]
                    ) -> tuple[list[str], list[str], list[str]]:
    """Columns that hold numbers (booleans as 0/1 included), besides `skip`; the texts that
    only mark missing values among them ('nil', '-': see `_markers`), for data.na_values; and
    notes on both those markers and the mostly numeric columns left out for other texts."""
    out, markers, notes = [], [], []
    for c in raw.columns:
        if str(c) in skip:
            continue
        col = raw[c]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            out.append(str(c))
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            values = col.dropna()
            num = pd.to_numeric(values, errors="coerce")
            if not len(num) or num.notna().mean() < 0.5:
                if len(values) and values.astype(str).str.strip().str.match(UNIT_NUMBER).mean() >= 0.5:
                    notes.append(f"column '{c}' left out: numbers with a unit or scale suffix "
                                 f"(e.g. {list(values.astype(str).unique()[:3])}); write them as "
                                 "plain numbers to use it")
                continue
            texts = values[num.isna()].astype(str)
            found = list(texts.unique())
            if not _markers(texts):
                notes.append(f"column '{c}' left out: {len(texts)} value(s) are not numbers "
                             f"(e.g. {found[:3]})")
                continue
            out.append(str(c))
            if found:
                markers += [t for t in found if t not in markers]
                notes.append(f"missing values: {found} in column '{c}' ({len(texts)} rows) "
                             "read as missing (data.na_values)")
    return out, markers, notes


def _markers(texts: pd.Series) -> bool:
    """Whether these texts (of a column otherwise holding numbers) can be missing-value markers:
    at most MAX_MARKERS distinct ones, none holding a digit, each written more than once (a
    one-off text is a typo to fix, not a convention)."""
    counts = texts.astype(str).value_counts()
    return len(counts) <= MAX_MARKERS and bool((counts > 1).all()) and not any(
        re.search(r"\d", t) for t in counts.index)


MAX_CLASH_SHARE = 0.01  # timestamps repeating with other values, at most, in one series


def find_series(raw: pd.DataFrame, time_col: str, numeric: list[str], target: str | None = None
                ) -> tuple[str | None, str]:
    """A repeated low-cardinality key that makes (key, timestamp) unique, or None. Never the
    target (given, or named like one): integer readings can look like a key."""
    if not raw[time_col].duplicated().any():
        return None, "timestamps are unique: one series"
    for c in raw.columns:
        c = str(c)
        if c == time_col or (c in numeric and not pd.api.types.is_integer_dtype(raw[c])):
            continue
        if c == target or c.lower() in TARGET_NAMES:
            continue
        k = raw[c].nunique(dropna=False)
        if 1 < k <= max(2, len(raw) // 10) and not raw.duplicated([c, time_col]).any():
            return c, f"column '{c}' has {k} repeated values and makes (it, timestamp) unique"
    return None, "timestamps repeat but no column tells the series apart"


def assign_columns(raw: pd.DataFrame, path: str, target: str | None = None) -> Columns:
    """Timestamp, series, target and covariates of a long table, each with its reason; texts
    that mark missing values in numeric columns are set missing in `raw` (see numeric_columns)."""
    if target is not None and target not in raw.columns:
        raise DataError(f"data file '{path}': --target column '{target}' is not in the file "
                        f"(columns: {[str(c) for c in raw.columns[:20]]})")
    time_col, fmt, why_time, zone = find_timestamp(raw, path)
    clock = time_of_day(raw, time_col, fmt)
    tod = clock[0] if clock else None  # data.time_of_day_column
    if clock:  # dates in one column, times of day in another: parsed together
        fmt = clock[1]
        num = pd.to_numeric(raw[tod], errors="coerce")
        what = (f"period numbers {int(num.min())}..{int(num.max())} of the day, each read as its "
                "start" if periods_of_day(raw[tod]) is not None else "times of day")
        why_time = (f"columns '{time_col}' (dates) and '{tod}' ({what}) parse "
                    f"together as timestamps ({'ISO 8601' if fmt is None else repr(fmt)})")
    stamp_cols = [time_col, *([tod] if tod else [])]
    numeric, markers, text_notes = numeric_columns(raw, set(stamp_cols))
    if markers:  # what the run will read as missing, read as missing here too
        raw[numeric] = raw[numeric].mask(raw[numeric].isin(markers))
    view = raw.assign(**{time_col: date_and_time(raw[time_col], raw[tod])}).drop(
        columns=[tod]) if tod else raw  # one timestamp column, as a run reads it
    if target is not None and (target not in numeric or raw[target].notna().sum() == 0):
        raise DataError(f"data file '{path}', column '{target}': "
                        f"{_not_a_target(view, target, time_col)}: --target must name a column "
                        "of numbers to forecast")
    series, why_series = find_series(view, time_col, numeric, target)
    duplicates, undecided = None, []
    if series is None and view[time_col].duplicated().any():
        used = view.drop_duplicates([time_col, *numeric])  # columns a run never reads don't clash
        clash = used[time_col].duplicated(keep=False)
        if clash.mean() > MAX_CLASH_SHARE:
            raise DataError(f"data file '{path}', column '{time_col}': {why_series}; give one row "
                            "per timestamp, or a column naming each series")
        why_series = "timestamps repeat only in identical rows (dropped): one series"
        if clash.any():  # a few stamps written twice with other values: one series all the same
            stamps = used[time_col][clash]
            duplicates = "mean"
            why_series = (f"one series: {int(clash.sum())} rows share {stamps.nunique()} "
                          "timestamps with different values, too few for a series key")
            undecided.append(
                f"{int(clash.sum())} rows share {stamps.nunique()} timestamps with different "
                f"values (e.g. {list(stamps.astype(str).unique()[:3])}): nothing tells which is "
                "right, so their values are averaged (data.duplicates: mean) so that training "
                "runs; fix the file or choose first / last")
    numeric = [c for c in numeric if c != series]
    notes = [f"timestamp: {why_time}", f"series: {why_series}", *text_notes]
    if target is None:
        named = [c for c in numeric if c.lower() in TARGET_NAMES]
        price = closing_price(numeric)
        if len(numeric) == 1:
            target, why = numeric[0], "the only numeric column"
        elif named:
            target, why = named[0], "named like a target"
        elif price:
            target, why = price, "the closing price of an open/high/low/close table"
            undecided.append(f"target: '{price}' guessed as the closing price of a price table; "
                             "pass --target COL to forecast another column")
        elif not numeric:
            raise DataError(f"data file '{path}': no numeric column to forecast (columns: "
                            f"{[str(c) for c in raw.columns[:20]]})")
        elif series is None and numeric == [str(c) for c in raw.columns if c not in stamp_cols]:
            # nothing but numbers beside the time, as a pivot writes it: one series per column
            notes[1] = (f"series: one per numeric column (data.layout: wide): {len(numeric)} "
                        f"columns, none named target/y/value ({listed(numeric, 5)})")
            undecided.append(f"{len(numeric)} numeric columns and none named target/y/value: "
                             "read as one series per column (data.layout: wide); pass --target "
                             "COL to forecast one of them with the others as covariates")
            return Columns(time_col, fmt, None, None, [], numeric, notes, markers, duplicates,
                           undecided, timezone=zone, time_of_day=tod, wide=True)
        else:
            raise DataError(f"data file '{path}': several numeric columns {numeric[:10]} and none "
                            "is named target/y/value: pass --target COL (the others become "
                            "covariates)")
    else:
        why = "given with --target"
    notes.append(f"target: '{target}' ({why})")
    covs, cov_notes = choose_covariates(raw, [c for c in numeric if c != target], target,
                                        series=series)
    known, known_notes = split_known(raw, covs, target, series)
    if known:  # the covariates' note names the past-only ones
        past = [c for c in covs if c not in known]
        cov_notes = [n for n in cov_notes if not n.startswith("covariates:")]
        cov_notes += [f"covariates: {past} (numeric, observed up to each time step)"] if past else []
    return Columns(time_col, fmt, target, series, [c for c in covs if c not in known], numeric,
                   notes + cov_notes + known_notes, markers, duplicates, undecided,
                   timezone=zone, time_of_day=tod, known=known)


PRICE_PARTS = ("open", "high", "low")  # with a close: a price table (OHLC[V] bars)
CLOSES = ("adjclose", "adjustedclose", "close", "closeprice", "last", "price")  # most wanted first


def closing_price(numeric: list[str]) -> str | None:
    """The close column of an open/high/low/close table (adjusted close first: splits and
    dividends do not jump it), or None. Exported price bars (Yahoo, brokers, exchanges) name
    no column 'target', and their columns are not comparable series (prices beside volume)."""
    key = {re.sub(r"[^a-z]", "", c.lower()): c for c in numeric}
    if sum(p in key for p in PRICE_PARTS) < 2:
        return None
    return next((key[c] for c in CLOSES if c in key), None)


def _not_a_target(raw: pd.DataFrame, target: str, time_col: str) -> str:
    """Why the --target column cannot be forecast, in its own terms."""
    col = raw[target]
    if target == time_col:
        return "it is the timestamp column"
    k, num = col.nunique(), pd.to_numeric(col, errors="coerce")
    if 1 < k <= max(2, len(raw) // 10) and not raw.duplicated([target, time_col]).any() \
            and num.isna().all():
        return f"it is a series key ({k} repeated values naming the series)"
    if col.notna().sum() == 0:
        return "it holds no value (every row is empty)"
    texts = col[num.isna() & col.notna()].astype(str)
    if not len(texts):
        return f"its values are not numbers (type {col.dtype})"
    return f"{len(texts)} value(s) are not numbers (e.g. {list(texts.unique()[:3])})"
