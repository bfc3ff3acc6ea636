"""Name what a file holds when it is clearly not a table (JSON, HTML, binary), and the shape
that was expected instead, so a refusal says more than "no rows" or "column missing".

Only called once reading or checking a file has already failed: a real table is never
second-guessed by these guesses.
"""

from __future__ import annotations

import json

from lstmflow.config import DataConfig

HEAD = 64 * 1024  # bytes looked at
MAGIC = (  # leading bytes -> what the file is
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one: export the sheet as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (an Excel .xls workbook?: export the sheet as CSV)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# Tables in another container than the one the reader was told: say how to read them.
READ_AS = {
    "a Parquet file": "set data.format: parquet, or name it .parquet",
    "gzip-compressed data": "name it .csv.gz so it is decompressed",
}


def _head(path: str) -> bytes | None:
    try:
        import fsspec

        with fsspec.open(path, "rb", compression="infer") as fh:
            return fh.read(HEAD)
    except Exception:
        return None


def _json(text: str, complete: bool) -> bool:
    """Whether `text` (the file, or its head when `complete` is False) is JSON."""
    try:
        json.loads(text)
        return True
    except ValueError:
        pass
    head = text.lstrip()
    return not complete and head[:2] in ('{"', "[{", "[[", "[\"", "[1", "[2", "[0", "[-")


def what_it_holds(path: str) -> str | None:
    """What the file holds if it is clearly not a table, e.g. 'JSON', 'HTML (a web page)'; None
    when it may well be a table (text that is neither JSON nor markup)."""
    raw = _head(path)
    if raw is None:
        return None
    for magic, what in MAGIC:
        if raw.startswith(magic):
            return what
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16 text (save it as UTF-8)"
    if b"\x00" in raw:
        return "binary data"
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    lower = text[:512].lower()
    if text[:1] in "{[" and text and _json(text, complete=len(raw) < HEAD):
        return "JSON"
    if lower.startswith(("<!doctype html", "<html")) or "<html" in lower:
        return "HTML (a web page)"
    if lower.startswith("<?xml"):
        return "XML"
    return None


def expected_shape(cfg: DataConfig) -> str:
    """The table the config asks for, in words."""
    if cfg.layout == "wide":
        return (f"a CSV or Parquet table with a header row: column '{cfg.timestamp_column}' "
                "(timestamps), then one numeric column per series, one row per time step")
    cols = [f"'{cfg.timestamp_column}' (timestamps)", f"'{cfg.target_column}' (numbers)"]
    if cfg.series_column:
        cols.append(f"'{cfg.series_column}' (series id)")
    cols += [f"'{c}' (numbers)" for c in cfg.value_columns]
    return ("a CSV or Parquet table with a header row and one row per time step"
            f"{' and series' if cfg.series_column else ''}, with columns {', '.join(cols)}")


def not_a_table(cfg: DataConfig, fmt: str) -> str | None:
    """'data file X holds JSON, not a table: expected ...', or None when it may be a table.

    `fmt` is how the file was read ('csv' or 'parquet'): a table in the other container gets
    the setting that reads it instead.
    """
    what = what_it_holds(cfg.path)
    where = f"data file '{cfg.path}'"
    if fmt == "parquet" and what in (None, "JSON", "HTML (a web page)", "XML"):
        raw = _head(cfg.path) or b""
        if raw and b"\x00" not in raw and not raw.startswith(b"PAR1"):
            kind = "text" if what is None else what
            hint = ("set data.format: csv, or name it .csv" if what is None
                    else f"expected {expected_shape(cfg)}")
            return f"{where} was read as Parquet but holds {kind}: {hint}"
        return None
    if what is None or (fmt == "parquet" and what == "a Parquet file"):
        return None
    if what in READ_AS:
        return f"{where} was read as {fmt} but holds {what}: {READ_AS[what]}"
    return f"{where} holds {what}, not a table: expected {expected_shape(cfg)}"
