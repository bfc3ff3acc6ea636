"""Read a user's file without a config: the CSV dialect (delimiter, decimal mark, thousands
separator) sniffed from the text, or Parquet as it is."""

from __future__ import annotations

import csv
import re

import pandas as pd

from lstmflow.config.data import DataConfig
from lstmflow.data.read import _format_of, check_path, read_parquet, read_table
from lstmflow.data.schema import DataError


def sniff_csv(path: str) -> tuple[str, str, int]:
    """Delimiter, decimal mark and the lines before the header (a title or source note) from
    the first 64 KB (',', '.' and 0 when it cannot tell)."""
    import fsspec

    try:
        with fsspec.open(path, "rb", compression="infer") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise DataError(f"data file '{path}' could not be opened: {exc}") from None
    if b"\x00" in head:
        raise DataError(f"data file '{path}' is binary (it holds NUL bytes): give a CSV or Parquet file")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise DataError(f"data file '{path}' is not UTF-8 text (byte at offset {exc.start}): "
                            "give a CSV or Parquet file") from None
        text = head[: exc.start].decode("utf-8-sig")
    if not text.strip():
        raise DataError(f"data file '{path}' is empty")
    every = text.splitlines()[:-1] or text.splitlines()  # the last line may be cut short
    lines = every[:50]
    delim = _delimiter(lines)
    skip = header_row(every[:200], delim)
    if skip:  # a preamble confuses the sniffer: sniff again on the table itself
        lines = every[skip:skip + 50]
        delim = _delimiter(lines)
    decimal = "," if delim != "," and re.search(r"\d,\d", "\n".join(lines[1:])) else "."
    return delim, decimal, skip


def _delimiter(lines: list[str]) -> str:
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def header_row(lines: list[str], delim: str) -> int:
    """How many lines come before the header: those before the first run of five lines that
    split into as many fields as most of the later lines do (at least two), when every line
    before it is narrower (a title, a note, a blank line). 0 for a table that starts at its
    first line, also one whose rows leave trailing fields out."""
    counts = [len(next(csv.reader([line], delimiter=delim))) if line.strip() else 0
              for line in lines]
    body = counts[len(counts) // 2:] or counts
    width = max(set(body), key=body.count)
    if width < 2 or (counts and counts[0] >= width):
        return 0
    run = min(5, len(counts))
    start = next((i for i in range(len(counts)) if counts[i:i + run] == [width] * run), 0)
    return start if all(c < width for c in counts[:start]) else 0


def read_raw(path: str, fmt: str = "auto") -> tuple[pd.DataFrame, dict[str, str | int]]:
    """The file as a table, and the CSV dialect it was read with as data.* keys that differ
    from the defaults (delimiter, decimal, thousands, skip_rows; none for Parquet)."""
    check_path(path)
    probe = DataConfig(path=path, timestamp_column="?", format=fmt)
    if _format_of(probe) == "parquet":
        try:
            return read_parquet(path), {}
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise DataError(f"data file '{path}' could not be read as parquet: "
                            f"{str(exc).splitlines()[0]}") from None
    delim, decimal, skip = sniff_csv(path)
    dialect = {"delimiter": delim, "decimal": decimal, "skip_rows": skip}
    raw = _read_csv(path, dialect)
    thousands = thousands_mark(raw, decimal)
    if thousands:  # '4,742.83': read again so that these columns are numbers
        dialect["thousands"] = thousands
        raw = _read_csv(path, dialect)
    return raw, {k: v for k, v in dialect.items() if v != DIALECT_DEFAULTS[k]}


DIALECT_DEFAULTS = {"delimiter": ",", "decimal": ".", "skip_rows": 0, "thousands": None}


def _read_csv(path: str, dialect: dict[str, str | int]) -> pd.DataFrame:
    """The CSV read exactly as a run will read it with these data.* keys (data/read.py)."""
    raw = read_table(DataConfig(path=path, timestamp_column="?", format="csv", **dialect))
    if raw.empty:
        raise DataError(f"data file '{path}' has a header but no rows")
    return raw


def thousands_mark(raw: pd.DataFrame, decimal: str) -> str | None:
    """',' (or '.' where ',' is the decimal mark) when a text column holds numbers with their
    digits grouped by it, as spreadsheet and finance-site exports write them ('4,742.83'):
    at least half of its values, and they all read as numbers once it is removed."""
    mark = "," if decimal != "," else "."
    grouped = re.compile(rf"^[-+]?\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+"
                         rf"(?:{re.escape(decimal)}\d+)?$")
    for c in raw.columns:
        col = raw[c]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
            continue
        values = col.dropna().astype(str).str.strip()
        values = values[values != ""]
        hits = values.str.match(grouped)
        if len(values) and hits.mean() >= 0.5:
            plain = values.str.replace(mark, "", regex=False).str.replace(decimal, ".",
                                                                          regex=False)
            if pd.to_numeric(plain, errors="coerce").notna().all():
                return mark
    return None
