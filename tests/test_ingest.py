"""Ingestion tolerates real files (dialects, BOM, shuffles, exact duplicates, Parquet, fsspec
URLs) and refuses broken ones with a message naming file, column and rule. No GE, no Prefect."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lstmflow.config import build_config
from lstmflow.data.ingest import describe_ingest, ingest
from lstmflow.data.schema import SERIES, TARGET, TIME, DataError
from tests.fixtures.cases import CASES, FIXTURES, fixture_config


def _cfg(name: str, **sections):
    path = name if "://" in name or name.startswith("/") else FIXTURES / name
    return build_config(fixture_config(path, **sections)).data


INGEST_CASES = [c for c in CASES if c[3] == "ingest"]


@pytest.mark.parametrize(("file", "sections", "pattern"),
                         [(*c[1:3], c[4]) for c in INGEST_CASES], ids=[c[0] for c in INGEST_CASES])
def test_bad_file_is_refused_with_a_specific_message(file, sections, pattern):
    with pytest.raises(DataError) as err:
        ingest(_cfg(file, **sections))
    assert re.search(pattern, str(err.value)), str(err.value)
    assert "Traceback" not in str(err.value)


@pytest.mark.parametrize("policy", ["first", "last", "mean"])
def test_conflicting_duplicates_are_resolved_as_data_duplicates_says(policy):
    """Two rows of 'a' @ 2020-01-11 with different values: 'error' (default) refuses the file
    (the bad-file case above); first / last / mean keep one row, counted in the report."""
    raw = pd.read_csv(FIXTURES / "conflicting_duplicates.csv")
    both = raw.loc[raw["date"] == "2020-01-11", "value"].to_numpy()
    assert len(both) == 2 and both[0] != both[1]
    r = ingest(_cfg("conflicting_duplicates.csv", data={"duplicates": policy}))
    row = r.frame[r.frame[TIME] == pd.Timestamp("2020-01-11")]
    want = {"first": both[0], "last": both[1], "mean": both.mean()}[policy]
    assert len(row) == 1 and row[TARGET].iloc[0] == pytest.approx(want)
    assert not r.frame.duplicated([SERIES, TIME]).any()
    assert r.report["conflicting_duplicates"] == {"rows": 2, "kept": policy}
    assert any("data.duplicates: " + policy in line for line in describe_ingest(r.report))


def _drifting(tmp_path, n: int = 300):
    """5-minute readings whose clock jitters, as a CGM export's do: from 09:51, a 4-minute step
    after reading 19 of every 40 and a 6-minute one after reading 39 (readings 20-39 sit a
    minute early), plus one extra reading a minute after reading 90 (on the grid)."""
    stamps, t = [], pd.Timestamp("2020-01-01 09:51")
    for i in range(n):
        stamps.append(t)
        t += pd.Timedelta(minutes={19: 4, 39: 6}.get(i % 40, 5))
    stamps.append(stamps[90] + pd.Timedelta(minutes=1))  # lands on reading 90's step, farther
    df = pd.DataFrame({"date": stamps, "series": "a", "value": range(len(stamps))})
    path = tmp_path / "drift.csv"
    df.sort_values("date").to_csv(path, index=False)
    return path, df


def test_off_grid_round_moves_drifting_stamps_to_the_nearest_step(tmp_path):
    """Under 'drop' (the default) every reading a minute early is lost; under 'round' each
    moves to its nearest step, and the closer of two rows on one step wins."""
    path, df = _drifting(tmp_path)
    early = sum(20 <= i % 40 <= 39 for i in range(300))  # 140 readings a minute early
    dropped = ingest(_cfg(str(path), data={"freq": "5min"}))
    assert dropped.report["off_grid_rows_dropped"] == early + 1
    r = ingest(_cfg(str(path), data={"freq": "5min", "off_grid": "round"}))
    assert r.report["off_grid_rows_dropped"] == 0
    assert r.report["rounded_to_grid"] == {"rows": early + 1, "dropped_as_farther": 1}
    assert r.frame[TARGET].notna().sum() == 300  # every reading kept but the farther twin
    assert r.frame.loc[r.frame[TARGET] == 90, TIME].iloc[0] == df["date"][90]  # the closer
    assert 300 not in set(r.frame[TARGET])  # the twin's value is gone
    assert (r.frame[TIME].diff().dropna() == pd.Timedelta(minutes=5)).all()
    with pytest.raises(DataError, match=r"data.off_grid 'round' needs a fixed step .* 'MS'"):
        ingest(_cfg(str(path), data={"freq": "MS", "off_grid": "round"}))


@pytest.mark.parametrize("off_grid", ["drop", "round"])
def test_a_lone_off_phase_first_reading_does_not_move_the_grid(tmp_path, off_grid):
    """5-minute readings on :00, :05, ... after one first reading at 23:56:30: the grid is the
    phase the readings share. Anchored at the first stamp, 'drop' lost every other reading and
    'round' met each one half a step from two grid steps."""
    stamps = [pd.Timestamp("2020-01-01 23:56:30"),
              *pd.date_range("2020-01-02", periods=200, freq="5min")]
    path = tmp_path / "late_start.csv"
    pd.DataFrame({"date": stamps, "series": "a", "value": range(201)}).to_csv(path, index=False)
    r = ingest(_cfg(str(path), data={"freq": "5min", "off_grid": off_grid}))
    on_grid = r.frame[r.frame[TARGET].notna()]
    assert (on_grid[TIME].dt.second == 0).all() and (on_grid[TIME].dt.minute % 5 == 0).all()
    assert list(on_grid[TARGET].iloc[-200:]) == list(range(1, 201))  # every regular reading
    if off_grid == "drop":
        assert r.report["off_grid_rows_dropped"] == 1 and r.frame[TIME].iloc[0] == stamps[1]
    else:  # the lone reading moves to 23:55 (nearest step), before the others
        assert r.report["rounded_to_grid"] == {"rows": 1, "dropped_as_farther": 0}
        assert r.frame[TIME].iloc[0] == pd.Timestamp("2020-01-01 23:55") and len(r.frame) == 201


def test_off_grid_round_takes_a_day_as_24_hours(tmp_path):
    """pandas 3 makes 'D' a calendar day; stamps carry no zone here, so it rounds as 24 h."""
    stamps = pd.date_range("2020-01-01 09:00", periods=60, freq="D")
    stamps = stamps + pd.to_timedelta([(i % 3) * 7 for i in range(60)], unit="min")  # 09:00-09:14
    path = tmp_path / "daily.csv"
    pd.DataFrame({"date": stamps, "series": "a", "value": range(60)}).to_csv(path, index=False)
    r = ingest(_cfg(str(path), data={"freq": "D", "off_grid": "round"}))
    assert r.report["rounded_to_grid"] == {"rows": 40, "dropped_as_farther": 0}
    assert len(r.frame) == 60 and (r.frame[TIME].dt.strftime("%H:%M") == "09:00").all()


def test_unix_time_in_seconds_or_milliseconds(tmp_path):
    """data.timestamp_format unix_s / unix_ms read numbers since 1970 as UTC clock time (or
    data.timezone's); texts among them, or milliseconds read as seconds, are named."""
    stamps = pd.date_range("2022-03-26", periods=72, freq="h")  # UTC
    secs = (stamps - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    for fmt, scale in (("unix_s", 1), ("unix_ms", 1000)):
        path = tmp_path / f"{fmt}.csv"
        pd.DataFrame({"date": secs * scale, "series": "a", "value": range(72)}).to_csv(path,
                                                                                     index=False)
        r = ingest(_cfg(str(path), data={"timestamp_format": fmt, "freq": "h"}))
        assert list(r.frame[TIME]) == list(stamps) and r.freq == "h"
    berlin = ingest(_cfg(str(tmp_path / "unix_s.csv"),
                         data={"timestamp_format": "unix_s", "timezone": "Europe/Berlin",
                               "freq": "h"}))
    assert berlin.frame[TIME].iloc[0] == pd.Timestamp("2022-03-26 01:00")  # UTC+1 in winter
    with pytest.raises(DataError, match=r"column 'date': .* out of range as s .*'unix_ms'\?"):
        ingest(_cfg(str(tmp_path / "unix_ms.csv"), data={"timestamp_format": "unix_s"}))
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"date": [str(secs[0]), "yesterday", str(secs[2])], "series": "a",
                  "value": [1, 2, 3]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"column 'date': 1 timestamp\(s\) are not numbers "
                                        r"\(e.g. 'yesterday'\)"):
        ingest(_cfg(str(bad), data={"timestamp_format": "unix_s"}))


def test_dates_and_times_of_day_apart_in_a_wide_file(tmp_path):
    """data.time_of_day_column joins '<date> <time>' before parsing, in the wide layout too
    (the time column is not a series); it may not double as another column."""
    from lstmflow.config import ConfigError

    stamps = pd.date_range("2021-05-01 22:00", periods=8, freq="h")
    path = tmp_path / "wide.csv"
    pd.DataFrame({"day": stamps.strftime("%d.%m.%Y"), "clock": stamps.strftime("%H:%M"),
                  "north": range(8), "south": range(10, 18)}).to_csv(path, index=False)
    r = ingest(_cfg(str(path), data={"layout": "wide", "timestamp_column": "day",
                                     "time_of_day_column": "clock", "target_column": "target",
                                     "series_column": None, "timestamp_format": "%d.%m.%Y %H:%M",
                                     "freq": "h"}))
    assert sorted(r.frame[SERIES].unique()) == ["north", "south"]
    assert list(r.frame.loc[r.frame[SERIES] == "north", TIME]) == list(stamps)
    pd.DataFrame({"day": ["01.05.2021", "01.05.2021"], "clock": ["22:00", "noon"],
                  "north": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"columns 'day' \+ 'clock': timestamps do not parse "
                                        r"with format '%d.%m.%Y %H:%M' \(e.g. '01.05.2021 noon'\)"):
        ingest(_cfg(str(path), data={"layout": "wide", "timestamp_column": "day",
                                     "time_of_day_column": "clock", "series_column": None,
                                     "timestamp_format": "%d.%m.%Y %H:%M", "freq": "h"}))
    with pytest.raises(ConfigError, match="time_of_day_column 'value' is also used"):
        _cfg("healthy.csv", data={"time_of_day_column": "value"})


def test_healthy_file_needs_no_fixing():
    r = ingest(_cfg("healthy.csv"))
    assert r.report["was_sorted"] is True
    assert describe_ingest(r.report) == []
    assert list(r.frame.columns) == [SERIES, TIME, TARGET]
    assert len(r.frame) == 200 and r.frame[TARGET].notna().all()


def test_shuffled_rows_are_sorted_and_reported():
    healthy, shuffled = ingest(_cfg("healthy.csv")), ingest(_cfg("shuffled.csv"))
    pd.testing.assert_frame_equal(shuffled.frame, healthy.frame)
    assert shuffled.report["fingerprint"] == healthy.report["fingerprint"]
    assert shuffled.report["was_sorted"] is False
    assert "rows were not in (series, timestamp) order: sorted" in describe_ingest(shuffled.report)


def test_exact_duplicates_are_collapsed_and_reported():
    r = ingest(_cfg("exact_duplicates.csv"))
    assert r.report["exact_duplicates_dropped"] == 2
    assert "2 exact duplicate row(s) dropped" in describe_ingest(r.report)
    pd.testing.assert_frame_equal(r.frame, ingest(_cfg("healthy.csv")).frame)


def test_gap_becomes_explicit_missing_rows():
    r = ingest(_cfg("gap_30.csv"))
    assert r.report["gap_rows_added"] == 30
    assert len(r.frame) == 200 and r.frame[TARGET].isna().sum() == 30


def test_european_dialect_with_bom_day_first_and_dot_as_missing():
    data = _cfg("european_bom.csv", data={"delimiter": ";", "decimal": ",",
                                          "timestamp_format": "%d/%m/%Y"})
    r = ingest(data)
    assert r.report["bom"] is True
    assert r.report["missing_in_file"] == {"value": 1}
    f = r.frame
    assert f[TIME].iloc[0] == pd.Timestamp("2020-01-01") and f[TIME].iloc[-1] == pd.Timestamp("2020-02-29")
    assert f[TARGET].iloc[0] == pytest.approx(100.1258)
    assert pd.isna(f[TARGET].iloc[10])
    assert "the file starts with a UTF-8 byte-order mark (ignored)" in describe_ingest(r.report)


def test_mixed_offsets_convert_when_a_timezone_is_given():
    r = ingest(_cfg("mixed_offsets.csv", data={"timezone": "UTC", "freq": "h"}))
    # From 2020-01-31 the stamps are +05:00: midnight there is 19:00 UTC the day before.
    observed = r.frame.dropna(subset=[TARGET])[TIME]
    assert observed.iloc[29] == pd.Timestamp("2020-01-30 00:00")
    assert observed.iloc[30] == pd.Timestamp("2020-01-30 19:00")
    assert r.report["off_grid_rows_dropped"] == 0


def test_parquet_and_fsspec_url_read_like_the_csv(tmp_path):
    import fsspec

    healthy = ingest(_cfg("healthy.csv"))
    pq = tmp_path / "healthy.parquet"
    pd.read_csv(FIXTURES / "healthy.csv").to_parquet(pq, index=False)
    pd.testing.assert_frame_equal(ingest(_cfg(str(pq))).frame, healthy.frame)
    with fsspec.open("memory://lstmflow-test/healthy.csv", "wb") as fh:
        fh.write((FIXTURES / "healthy.csv").read_bytes())
    pd.testing.assert_frame_equal(ingest(_cfg("memory://lstmflow-test/healthy.csv")).frame, healthy.frame)


def test_missing_url_is_named():
    with pytest.raises(DataError, match=r"data file 'memory://lstmflow-test/nope\.csv' does not exist"):
        ingest(_cfg("memory://lstmflow-test/nope.csv"))


@pytest.mark.parametrize(("name", "content", "pattern"), [
    ("parquet_as.csv", "parquet", r"was read as csv but holds a Parquet file: set data\.format: "
                                  r"parquet, or name it \.parquet$"),
    ("gzip_as.csv", "gzip", r"was read as csv but holds gzip-compressed data: name it \.csv\.gz"),
    ("records.csv", "records", r"holds JSON, not a table: expected a CSV or Parquet table"),
    ("json.parquet", "json", r"was read as Parquet but holds JSON: expected a CSV or Parquet table"),
])
def test_a_table_in_the_wrong_container_says_how_to_read_it(tmp_path, name, content, pattern):
    import gzip
    import json

    healthy = FIXTURES / "healthy.csv"
    path = tmp_path / name
    if content == "parquet":
        pd.read_csv(healthy).to_parquet(path)
    elif content == "gzip":
        path.write_bytes(gzip.compress(healthy.read_bytes()))
    else:
        rows = pd.read_csv(healthy).head(3).to_dict(orient="records")
        path.write_text(json.dumps(rows if content == "records" else {"rows": rows}))
    with pytest.raises(DataError, match=pattern):
        ingest(_cfg(str(path)))


def test_a_json_looking_header_of_a_real_table_is_not_second_guessed(tmp_path):
    """Content sniffing only names a failure: a real table whose first cell starts like JSON reads."""
    path = tmp_path / "brackets.csv"
    text = (FIXTURES / "healthy.csv").read_text().replace("date,", "[date],", 1)
    path.write_text(text)
    assert len(ingest(_cfg(str(path), data={"timestamp_column": "[date]"})).frame) == 200


def test_expected_shape_of_a_wide_table():
    from lstmflow.data.sniff import expected_shape

    cfg = _cfg("healthy.csv", data={"layout": "wide", "series_column": None})
    assert expected_shape(cfg) == ("a CSV or Parquet table with a header row: column 'date' "
                                   "(timestamps), then one numeric column per series, one row per "
                                   "time step")


def test_na_values_apply_to_parquet_files_too(tmp_path):
    """read_parquet has no na_values: a 'nil' listed there is still read as missing (init
    writes such markers for any format)."""
    df = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=40).astype(str),
                       "series": "a", "value": [str(float(i)) for i in range(40)]})
    df.loc[[3, 7], "value"] = "nil"
    path = tmp_path / "marked.parquet"
    df.to_parquet(path)
    r = ingest(_cfg(str(path), data={"na_values": ["", "nil"]}))
    assert r.frame[TARGET].isna().sum() == 2 and r.frame[TARGET].iloc[4] == 4.0
    with pytest.raises(DataError, match=r"not numbers \(e\.g\. \['nil'\]\)"):
        ingest(_cfg(str(path)))
