"""Read a CSV/Parquet file (local path or fsspec URL) into a raw table, then the long layout.

Nothing is parsed here beyond what the reader does; errors name the file and what to check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lstmflow.config import DataConfig
from lstmflow.data.schema import SERIES, TARGET, TIME, DataError


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


def read_parquet(path: str) -> pd.DataFrame:
    """A Parquet file's table with its pandas index as columns: a frame saved with its
    DatetimeIndex (`df.to_parquet()`, the usual time-series layout) keeps its timestamps in
    the index, where no column names them."""
    frame = pd.read_parquet(path)
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame
    return frame.reset_index()


def read_table(cfg: DataConfig) -> pd.DataFrame:
    """Read the raw table as strings-or-numbers, exactly as the file holds it."""
    check_path(cfg.path)
    fmt = _format_of(cfg)
    try:
        if fmt == "parquet":
            return read_parquet(cfg.path)
        return pd.read_csv(
            cfg.path,
            sep=cfg.delimiter,
            decimal=cfg.decimal,
            thousands=cfg.thousands,
            skiprows=cfg.skip_rows,
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
        raise DataError(_not_a_table(cfg) or (
            f"data file '{cfg.path}' could not be read as csv: it is not UTF-8 text (byte "
            f"{exc.object[exc.start:exc.start + 1]!r} at offset {exc.start}); is it a CSV file?"
        )) from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(_not_a_table(cfg)
                        or f"data file '{cfg.path}' could not be read as {fmt}: {first}") from None


def _not_a_table(cfg: DataConfig) -> str | None:
    """The refusal naming what the file holds, if it is clearly not a table of the format it
    was read as (lstmflow.data.sniff)."""
    from lstmflow.data.sniff import not_a_table

    return not_a_table(cfg, _format_of(cfg))


def _require_columns(raw: pd.DataFrame, cfg: DataConfig) -> None:
    need = [cfg.timestamp_column, *([cfg.time_of_day_column] if cfg.time_of_day_column else [])]
    if cfg.layout == "long":
        need += [cfg.target_column, *cfg.value_columns]
        if cfg.series_column:
            need.append(cfg.series_column)
    else:
        need += list(cfg.wide_columns or [])
    missing = [c for c in need if c not in raw.columns]
    if missing:
        what = _not_a_table(cfg)
        if what:
            raise DataError(what)
        hint = ""
        if len(raw.columns) == 1 and _format_of(cfg) == "csv":
            only = str(raw.columns[0])
            if cfg.timestamp_column in missing and not any(d in only for d in ",;\t|"):
                from lstmflow.data.sniff import expected_shape

                raise DataError(
                    f"data file '{cfg.path}' has a single column ('{only[:40]}') and no timestamp "
                    f"column '{cfg.timestamp_column}': expected {expected_shape(cfg)}"
                )
            hint = f"; the file parsed into a single column: is it a CSV with delimiter {cfg.delimiter!r}?"
        elif len(missing) == len(need):
            hint = "; none of the expected columns is there: is this the right file?"
        raise DataError(
            f"data file '{cfg.path}': required column(s) {missing} missing "
            f"(columns present: {[str(c) for c in raw.columns[:20]]}){hint}"
        )


PERIODS_PER_DAY = {24: 24, 25: 24, 48: 48, 49: 48, 50: 48, 96: 96, 97: 96, 98: 96, 100: 96}


def periods_of_day(times: pd.Series) -> pd.Series | None:
    """'HH:MM' for a column of whole numbers that count the periods of a day, as energy
    markets write them: hours 1..24 ('hour ending'; 25 on the autumn's long day) or 0..23,
    half hours 1..48 (settlement periods), quarter hours 1..96. Period p of K starts
    (p - 1) x 24 h / K into the day (p x 24 h / K when they count from 0). None otherwise."""
    num = pd.to_numeric(times, errors="coerce")
    seen = num.dropna()
    if seen.empty or num[times.notna()].isna().any() or not np.allclose(seen, seen.round()):
        return None
    low, high = int(seen.min()), int(seen.max())
    per_day = PERIODS_PER_DAY.get(high) if low >= 1 else PERIODS_PER_DAY.get(high + 1)
    if per_day is None or low < 0:
        return None
    # the long day's extra period (hour 25) shares the last period's start: a repeated stamp,
    # as any clock's repeated autumn hour is (data.duplicates decides)
    index = (num.clip(upper=per_day) - 1) if low >= 1 else num.clip(upper=per_day - 1)
    minutes = (index * (1440 // per_day)).astype("Int64")
    hours = (minutes // 60).astype("string").str.zfill(2)
    return (hours + ":" + (minutes % 60).astype("string").str.zfill(2)).astype(object).where(
        minutes.notna(), None)


def date_and_time(dates: pd.Series, times: pd.Series) -> pd.Series:
    """'<date> <time>' per row from a date column and a time-of-day column (missing where
    either is): the text data.timestamp_format describes. A column of period numbers
    (`periods_of_day`: hour ending 1..24, settlement period 1..48) is read as their start."""
    if pd.api.types.is_datetime64_any_dtype(dates):
        dates = dates.dt.strftime("%Y-%m-%d")
    periods = periods_of_day(times)
    if periods is not None:
        times = periods
    joined = dates.astype("string").str.strip() + " " + times.astype("string").str.strip()
    return joined.astype(object).where(dates.notna() & times.notna())


def _to_long(raw: pd.DataFrame, cfg: DataConfig) -> pd.DataFrame:
    """Bring either layout to series_id, timestamp, target, covariates (unparsed)."""
    if cfg.time_of_day_column:
        raw = raw.assign(**{cfg.timestamp_column: date_and_time(
            raw[cfg.timestamp_column], raw[cfg.time_of_day_column])}).drop(
            columns=[cfg.time_of_day_column])
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
    for c in cfg.value_columns:
        out[c] = raw[c]
    return out
