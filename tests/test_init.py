"""`lstmflow init`: a working, commented config from a data file; clear refusals otherwise."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from lstmflow.config import ConfigError, build_config, load_config
from lstmflow.data.schema import SERIES, TARGET, TIME, DataError
from lstmflow.init.build import infer_config
from lstmflow.init.infer import calendar_cycles, choose_season
from lstmflow.init.read import assign_columns
from lstmflow.init.render import render_yaml
from tests.conftest import ROOT, SAMPLE, random_walk
from tests.fixtures.cases import FIXTURES

QUIET = {"log": lambda _: None}


def run_cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmflow.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def sample_config(tmp_path_factory):
    """`lstmflow init` on the bundled sample, as a user runs it (short transform fits)."""
    out = tmp_path_factory.mktemp("init")
    inf = infer_config(str(SAMPLE), target="Adj Close", output_dir=str(out / "outputs"),
                       fit_steps=12, **QUIET)
    path = out / "stocks.yaml"
    path.write_text(render_yaml(inf, "lstmflow init --data stocks.parquet"))
    return inf, path


def test_init_on_the_sample_reproduces_the_hand_written_config(sample_config):
    inf, path = sample_config
    cfg = load_config(path)
    hand = load_config(ROOT / "configs" / "default.yaml")
    for key in ("timestamp_column", "series_column", "target_column", "freq"):
        assert getattr(cfg.data, key) == getattr(hand.data, key), key
    assert set(cfg.data.covariates) == {"Open", "High", "Low", "Close", "Volume"}
    assert cfg.evaluation.season == 1  # daily prices: no weekly cycle in the returns
    assert cfg.forecast.horizon == 5  # one business week when no season is found
    assert cfg.preprocess.target_transform in ("level", "diff", "log_return")
    assert "lowest validation MAE" in inf.why["preprocess.target_transform"]
    assert any("fewer than" in n and "1 of 5 series" in n for n in inf.notes)  # FB is short
    text = path.read_text()
    assert "  freq: B  # the most common step" in text and text.startswith("# Written by")
    from lstmflow.fit.model import segment_len

    p = segment_len(cfg)  # what training will use (its rule: tests/test_segment_len.py)
    assert f"model:  # the LSTM reads its {cfg.forecast.input_size}-step window in {p}-step " \
        "segments" in text


def test_the_inferred_config_trains_without_edits(prefect_harness, sample_config):
    """The file as written runs the training flow; only the step budget is cut for the test."""
    from flows.training import train_flow
    from lstmflow.config import load_config

    _, path = sample_config
    cfg = load_config(path, ["training.max_steps=20", "training.val_check_steps=10",
                             "model.hidden_size=8", "model.num_layers=1"])
    state = train_flow(cfg, return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary["status"] == "completed" and summary["training"]["steps_run"] == 20
    assert summary["training"]["budget"]["mode"] == "steps"
    assert summary["metrics"]["model"]["points"] > 0


def test_integer_dates_weekly_data_and_a_european_csv(tmp_path):
    co2 = infer_config(str(ROOT / "data" / "sample" / "co2_weekly.csv"), try_transforms=False,
                       **QUIET)
    assert co2.raw["data"]["timestamp_format"] == "%Y%m%d"
    assert co2.raw["data"]["freq"] == "W-SAT" and co2.raw["data"]["target_column"] == "co2"
    assert co2.raw["evaluation"]["season"] == 52  # the yearly cycle shows in the differences
    walk = random_walk(400)
    path = tmp_path / "eu.csv"
    text = "date;series;value\n" + "".join(
        f"{d:%d/%m/%Y};a;{v:.4f}\n".replace(".", ",") for d, v in zip(walk.date, walk.value, strict=True))
    path.write_text("\ufeff" + text, encoding="utf-8")
    eu = infer_config(str(path), try_transforms=False, **QUIET)
    d = eu.raw["data"]
    assert (d["delimiter"], d["decimal"], d["timestamp_format"]) == (";", ",", "%d/%m/%Y")
    assert d["target_column"] == "value" and "series_column" not in d  # one series: no key
    load_config_text = yaml.safe_load(render_yaml(eu, "init"))
    assert load_config_text["data"]["decimal"] == ","
    with pytest.raises(DataError, match="the median series has 60 rows: too short"):
        infer_config(str(FIXTURES / "european_bom.csv"), try_transforms=False, **QUIET)


def test_texts_marking_missing_values_become_na_values_and_other_texts_are_refused(tmp_path):
    """A covariate whose gaps are written 'nil' (a real CGM export does this) is kept, 'nil'
    goes into data.na_values so that the run reads it as missing; a column of varied texts is
    left out; a --target with such texts is refused naming the column."""
    from lstmflow.data.ingest import ingest

    walk = random_walk(800, freq="h")
    walk["isig"] = (walk["value"] * 0.1).round(3).astype(str)
    nil = walk.index % 9 == 4
    walk.loc[nil, "isig"] = "nil"
    walk["note"] = (walk["value"] * 0.1).round(3).astype(str)
    texts = (walk.index % 7 == 3) & (walk.index > 600)  # past the rows sampled for numbers
    walk.loc[texts, "note"] = [f"sensor {i}" for i in range(texts.sum())]
    walk["value_txt"] = walk["value"].astype(str)
    walk.loc[5, "value_txt"] = "err1"
    path = tmp_path / "cgm.csv"
    walk.to_csv(path, index=False)
    inf = infer_config(str(path), "value", try_transforms=False, **QUIET)
    d = inf.raw["data"]
    assert d["na_values"][-1] == "nil" and "isig" in d["covariates"]
    assert "note" not in d["covariates"]
    assert any(f"'note' left out: {texts.sum()} value(s) are not numbers" in n for n in inf.notes)
    assert any(f"['nil'] in column 'isig' ({nil.sum()} rows) read as missing" in n
               for n in inf.notes)
    out = tmp_path / "cgm.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert frame["isig"].isna().sum() == nil.sum()
    with pytest.raises(DataError, match=r"column 'value_txt': 1 value\(s\) are not numbers"):
        infer_config(str(path), "value_txt", try_transforms=False, **QUIET)


def test_a_few_timestamps_written_twice_make_one_series_not_a_panel(tmp_path):
    """An integer reading named 'target' with 3 timestamps written twice (a real CGM export):
    init took the readings for a series key (hundreds of 'series', 14.5 million grid rows).
    Now: one series, the clashing rows averaged (data.duplicates: mean), said as NOT DECIDED."""
    walk = random_walk(600, freq="5min")
    walk["target"] = (walk.pop("value") * 2).round().astype(int)
    walk["isig"] = walk["target"] / 10.0
    twice = walk.iloc[[100, 300, 500]].assign(target=lambda d: d["target"] + 2)
    path = tmp_path / "cgm.csv"
    pd.concat([walk, twice]).sort_values("date", kind="stable").to_csv(path, index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    d = inf.raw["data"]
    assert "series_column" not in d and d["target_column"] == "target"
    assert d["duplicates"] == "mean" and d["covariates"] == ["isig"]
    (said,) = [u for u in inf.undecided if "timestamps with different values" in u]
    assert said.startswith("6 rows share 3 timestamps") and "data.duplicates: mean" in said
    out = tmp_path / "cgm.yaml"
    out.write_text(render_yaml(inf, "init"))
    assert load_config(out).data.duplicates == "mean"


def test_readings_that_drift_off_the_grid_are_rounded_onto_it(tmp_path):
    """A 5-minute sensor whose clock jitters (half its readings a minute early): init sets
    data.off_grid: round, says why, and the file no longer fails the off_grid check."""
    from tests.test_ingest import _drifting

    path, _ = _drifting(tmp_path, n=1200)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert inf.raw["data"]["off_grid"] == "round" and inf.raw["data"]["freq"] == "5min"
    assert inf.why["data.off_grid"].startswith("50% of the rows sit off the '5min' grid")
    assert not any("'off_grid' check" in u for u in inf.undecided)
    on_grid = infer_config(str(ROOT / "data" / "sample" / "co2_weekly.csv"),
                           try_transforms=False, **QUIET)
    assert "off_grid" not in on_grid.raw["data"]


def _growth(tmp_path, sign: float = 1.0):
    """4000 days of a price growing e^16-fold: its late daily changes are thousands of the
    training part's interquartile ranges, as a century of an index's are."""
    rng = np.random.default_rng(4)
    n = 4000
    value = sign * 100 * np.exp(np.cumsum(rng.normal(0.004, 0.01, n)))
    path = tmp_path / "growth.csv"
    pd.DataFrame({"date": pd.date_range("1990-01-01", periods=n, freq="D"),
                  "value": value}).to_csv(path, index=False)
    return path


def test_a_transform_the_input_gate_would_refuse_is_not_chosen(tmp_path):
    """Init compares only transforms whose scaled inputs pass the run's model-input gate: the
    written config must train without edits (a century of the Dow Jones under 'diff' did not)."""
    inf = infer_config(str(_growth(tmp_path)), fit_steps=12, **QUIET)
    why = inf.why["preprocess.target_transform"]
    assert inf.raw["preprocess"]["target_transform"] == "log_return"
    assert "diff not fitted, the model-input gate would refuse it" in why
    assert "scaled magnitude <= 1000 failed" in why


def test_when_the_gate_refuses_every_transform_init_says_so(tmp_path):
    inf = infer_config(str(_growth(tmp_path, sign=-1.0)), fit_steps=12, **QUIET)
    (said,) = [u for u in inf.undecided if "every target transform" in u]
    assert "level:" in said and "diff:" in said and "quality.max_scaled_abs" in said


def test_season_comes_from_the_autocorrelation():
    n = 24 * 60
    rng = np.random.default_rng(0)
    hourly = pd.DataFrame({"series_id": "a", "timestamp": pd.date_range("2020", periods=n, freq="h"),
                           "target": 10 * np.sin(np.arange(n) * 2 * np.pi / 24)
                           + np.cumsum(rng.normal(0, 1, n))})
    assert choose_season(hourly, "h", 0.8)[0] == 24
    walk = random_walk(2000).rename(columns={"date": "timestamp", "value": "target"})
    walk["series_id"] = "a"
    season, why = choose_season(walk, "D", 0.8)
    assert season == 1 and "seasonal naive = naive" in why
    assert calendar_cycles("30min")[0] == (48, "day") and calendar_cycles("B")[0] == (5, "week")


@pytest.mark.parametrize(("file", "args", "message"), [
    ("not_csv.csv", [], "is binary"),
    ("prose.csv", [], "no column parses as timestamps"),
    ("empty.csv", [], "is empty"),
    ("header_only.csv", [], "has a header but no rows"),
    ("text_target.csv", [], "no numeric column to forecast"),
    ("healthy.csv", ["price"], "--target column 'price' is not in the file"),
    ("nope.csv", [], "does not exist"),
])
def test_unreadable_input_is_refused_clearly(file, args, message):
    with pytest.raises(DataError, match=message):
        infer_config(str(FIXTURES / file), *args, try_transforms=False, **QUIET)


@pytest.mark.parametrize(("target", "why"), [
    ("date", "it is the timestamp column"),
    ("series", r"it is a series key \(2 repeated values"),
    ("blank", r"it holds no value \(every row is empty\)"),
])
def test_a_target_that_is_not_a_series_of_numbers_says_what_it_is(tmp_path, target, why):
    """Said before as '0 value(s) are not numbers' (or accepted, for an empty column)."""
    days = pd.date_range("2020-01-01", periods=40, freq="D")
    df = pd.DataFrame({"date": list(days) * 2, "series": ["a"] * 40 + ["b"] * 40,
                       "value": np.arange(80.0), "blank": np.nan})
    path = tmp_path / "panel.parquet"
    df.to_parquet(path)
    with pytest.raises(DataError, match=f"column '{target}': {why}.*--target must name a column"):
        infer_config(str(path), target, try_transforms=False, **QUIET)


def test_stamps_with_offsets_across_daylight_saving_are_read_in_utc(tmp_path):
    """An export in local time with its UTC offset ('+01:00' in winter, '+02:00' in summer):
    init found no timestamp column; now it sets data.timezone UTC, and the run's grid is
    regular across the change (no 23-hour day, no repeated hour)."""
    from lstmflow.data.ingest import ingest

    stamps = pd.date_range("2021-10-25", "2021-11-05", freq="h", tz="Europe/Berlin")
    stamps = stamps.union(pd.date_range("2021-03-20", "2021-04-02", freq="h", tz="Europe/Berlin"))
    text = stamps.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True)
    path = tmp_path / "local.csv"
    pd.DataFrame({"time": text, "load": np.arange(len(stamps), dtype=float)}).to_csv(path,
                                                                                    index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert inf.raw["data"]["timezone"] == "UTC"
    assert any("2 UTC offsets ['+01:00', '+02:00']" in n for n in inf.notes)
    out = tmp_path / "local.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    observed = frame[frame[TARGET].notna()]
    assert len(observed) == len(stamps)  # every reading, none merged or dropped
    march = observed[observed[TIME] < pd.Timestamp("2021-06-01")]
    assert (march[TIME].diff().dropna() == pd.Timedelta(hours=1)).all()


def test_unix_time_is_read_only_in_a_column_named_like_a_time(tmp_path):
    """Seconds (or milliseconds, or fractional seconds) since 1970 in 'ts' / 'open_time' are the
    timestamps; the same numbers in a column named 'count' are not taken for a clock."""
    stamps = pd.date_range("2023-01-01", periods=300, freq="h")
    secs = ((stamps - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")).to_numpy()
    wave = np.sin(np.arange(300) * 2 * np.pi / 24)
    for name, values, fmt in (("ts", secs, "unix_s"), ("open_time", secs * 1000, "unix_ms"),
                              ("time", secs + 0.25, "unix_s")):
        path = tmp_path / f"{name}.csv"
        pd.DataFrame({name: values, "value": wave}).to_csv(path, index=False)
        inf = infer_config(str(path), try_transforms=False, **QUIET)
        assert inf.raw["data"]["timestamp_format"] == fmt and inf.raw["data"]["freq"] == "h"
    path = tmp_path / "count.csv"
    pd.DataFrame({"count": secs, "value": wave}).to_csv(path, index=False)
    with pytest.raises(DataError, match="no column parses as timestamps"):
        infer_config(str(path), try_transforms=False, **QUIET)


def test_dates_and_times_of_day_in_two_columns_make_one_timestamp(tmp_path):
    """A logger's 'Date;Time;...' export (UCI household power's layout: d/m/Y dates, '?' for
    missing): init took the dates alone, found each repeated 1440 times and refused the file;
    now both columns make the timestamp (data.time_of_day_column) and the run reads every
    minute. A time-of-day column that does not tell the repeated dates apart is not used."""
    from lstmflow.data.ingest import ingest

    stamps = pd.date_range("2006-12-16 17:24", periods=1500, freq="min")
    power = np.round(2 + np.sin(np.arange(1500) * 2 * np.pi / 1440), 3).astype(object)
    power[100:103] = "?"
    path = tmp_path / "household.txt"
    pd.DataFrame({"Date": stamps.strftime("%-d/%-m/%Y"), "Time": stamps.strftime("%H:%M:%S"),
                  "Global_active_power": power}).to_csv(path, sep=";", index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    data = inf.raw["data"]
    assert (data["timestamp_column"], data["time_of_day_column"]) == ("Date", "Time")
    assert data["timestamp_format"] == "%d/%m/%Y %H:%M:%S" and data["freq"] == "min"
    out = tmp_path / "household.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert list(frame[TIME]) == list(stamps) and frame[TARGET].isna().sum() == 3
    days = pd.date_range("2020-01-01", periods=60, freq="D")  # a reading a day, same clock time
    panel = pd.DataFrame({"date": list(days.strftime("%Y-%m-%d")) * 2, "at": "09:00",
                          "site": ["a"] * 60 + ["b"] * 60, "value": np.arange(120.0)})
    cols = assign_columns(panel, "daily.csv")
    assert cols.time_of_day is None and cols.series == "site"


def test_a_wide_file_is_read_as_one_series_per_column(tmp_path):
    """Prices pivoted to one column per ticker (the issue's 'long or wide'): init refused it
    for want of --target; now it writes data.layout wide, says so under NOT DECIDED, and a
    column that starts later (FB's listing) is a shorter series, not 90% missing."""
    from lstmflow.data.ingest import describe_ingest, ingest

    long = pd.read_parquet(SAMPLE)
    wide = long.pivot(index="Date", columns="Ticker", values="Adj Close").reset_index()
    wide.columns.name = None
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert inf.raw["data"]["layout"] == "wide" and "target_column" not in inf.raw["data"]
    assert any("read as one series per column (data.layout: wide)" in u for u in inf.undecided)
    assert not any("'missing' check" in u or "'gap' check" in u for u in inf.undecided)
    out = tmp_path / "wide.yaml"
    out.write_text(render_yaml(inf, "init"))
    r = ingest(load_config(out).data)
    fb = r.frame[r.frame[SERIES] == "FB"]
    assert fb[TIME].min() == pd.Timestamp(long.loc[long["Ticker"] == "FB", "Date"].min())
    assert fb[TARGET].notna().sum() == (long["Ticker"] == "FB").sum()
    assert fb[TARGET].isna().mean() < 0.05  # holidays on the 'B' grid, not 12 years before it
    assert any("before a column's first value or after its last dropped" in line
               for line in describe_ingest(r.report))


def test_a_price_table_forecasts_its_close(tmp_path):
    """Exported price bars (Date,Open,High,Low,Close,Adj Close,Volume) name no column 'target'
    and are not comparable series: the (adjusted) close is the target, the rest covariates,
    and NOT DECIDED says it was a guess. The bundled sample (a long panel of bars) gets the
    target its hand-written config names."""
    long = pd.read_parquet(SAMPLE)
    cols = assign_columns(long.copy(), "stocks.parquet")
    assert (cols.series, cols.target) == ("Ticker", "Adj Close") and not cols.wide
    assert {"Open", "High", "Low", "Volume"} <= set(cols.covariates)
    assert any("'Adj Close' guessed as the closing price" in u for u in cols.undecided)
    bars = long[long["Ticker"] == "IBM"].drop(columns=["Ticker", "Adj Close"])
    bars.columns = ["date", "open", "high", "low", "close", "volume"]
    cols = assign_columns(bars, "ibm.csv")  # one ticker: no key, no adjusted close
    assert (cols.series, cols.target, cols.wide) == (None, "close", False)
    assert assign_columns(bars, "ibm.csv", target="volume").target == "volume"
    investing = bars.rename(columns={"close": "Price"}).assign(Change=["0.5%"] * len(bars))
    inv = assign_columns(investing, "inv.csv")  # investing.com's export
    assert inv.target == "Price" and "Change" not in inv.covariates
    assert any("column 'Change' left out: numbers with a unit or scale suffix" in n
               for n in inv.notes)
    readings = bars.rename(columns={"open": "a", "high": "b", "low": "c"})  # a close alone
    assert assign_columns(readings.copy(), "r.csv").wide  # is no price table: still wide


def test_several_numeric_columns_need_a_target(tmp_path):
    df = pd.read_parquet(SAMPLE).head(50)
    df.columns = ["site", "when", "north", "south", "east", "west", "up", "down"]
    path = tmp_path / "panel.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"several numeric columns .* pass --target COL"):
        infer_config(str(path), try_transforms=False, **QUIET)


def test_cli_writes_the_config_and_refuses_without_traceback(tmp_path):
    out = tmp_path / "co2.yaml"
    r = run_cli("init", "--data", str(ROOT / "data" / "sample" / "co2_weekly.csv"), "--out",
                str(out), "--no-fit")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "evaluation.season = 52" in r.stdout and "not decided: target transform" in r.stdout
    raw = yaml.safe_load(out.read_text())
    assert raw["data"]["target_column"] == "co2" and json.dumps(raw)
    assert raw["data"]["series_column"] is None and raw["model"]["hidden_size"] == 64  # defaults
    assert "  hidden_size: 64  # (default) LSTM hidden units per layer" in out.read_text()
    again = run_cli("init", "--data", str(ROOT / "data" / "sample" / "co2_weekly.csv"), "--out",
                    str(out), "--no-fit")
    assert again.returncode == 2 and "pass --force" in again.stderr
    bad = run_cli("init", "--data", str(FIXTURES / "not_csv.csv"), "--out", str(tmp_path / "x.yaml"))
    assert bad.returncode == 2 and "is binary" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_a_saved_row_index_or_a_second_clock_is_no_covariate(tmp_path):
    """`df.to_csv()` without index=False writes 'Unnamed: 0' (0, 1, 2 ...), and a kline export
    has close_time beside open_time: both became covariates, which the test period takes
    beyond every value seen in training. A cumulative meter (rises by varying amounts) and a
    counter restarting per series are told apart from readings the same way."""
    rng = np.random.default_rng(0)
    n = 300
    stamps = pd.date_range("2021-01-01", periods=n, freq="h")
    df = pd.DataFrame({"Unnamed: 0": np.arange(n), "timestamp": stamps.astype(str),
                       "target": rng.normal(size=n).cumsum(), "temp": rng.normal(size=n),
                       "meter": np.abs(rng.normal(size=n)).cumsum(),
                       "close_time": (stamps - pd.Timestamp(0)) // pd.Timedelta("1ms") + 3599999})
    df = df.drop(index=[50, 51, 200])  # a few gaps: the clock steps twice as far there
    cols = assign_columns(df.copy(), "k.csv")
    assert cols.covariates == ["temp", "meter"]
    assert any("covariate 'Unnamed: 0' left out: it only ever rises or falls, by 1" in n_
               for n_ in cols.notes)
    assert any("covariate 'close_time' left out" in n_ for n_ in cols.notes)
    panel = pd.concat([df.assign(site=s, step=np.arange(len(df))) for s in ("a", "b")])
    cols = assign_columns(panel.drop(columns=["Unnamed: 0"]), "p.csv")
    assert cols.series == "site" and "step" not in cols.covariates and "temp" in cols.covariates


@pytest.mark.parametrize(("sep", "dec", "mark", "text"), [
    (",", ".", ",", '"{:,.2f}"'),  # investing.com, spreadsheets: "4,742.83"
    (";", ",", ".", "{:,.2f}"),  # a European export: 4.742,83
])
def test_numbers_with_grouped_digits_are_read_as_numbers(tmp_path, sep, dec, mark, text):
    """An export that writes '4,742.83' had every column read as text: init refused the file
    ('no numeric column'). Now it finds the thousands mark, writes data.thousands, and the
    run reads the same numbers."""
    from lstmflow.data.ingest import ingest

    rng = np.random.default_rng(1)
    price = 4000 + rng.normal(size=400).cumsum() * 20

    def fmt(v: float) -> str:
        return text.format(v).replace(",", "X").replace(".", dec).replace("X", mark)

    stamps = pd.date_range("2020-01-01", periods=400, freq="D").strftime("%Y-%m-%d")
    lines = [f"date{sep}value"] + [f"{t}{sep}{fmt(v)}" for t, v in zip(stamps, price, strict=True)]
    path = tmp_path / "grouped.csv"
    path.write_text("\n".join(lines) + "\n")
    assert "4" in lines[1] and mark in lines[1]
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert inf.raw["data"]["thousands"] == mark
    assert "data.thousands" in inf.why
    out = tmp_path / "grouped.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert np.allclose(frame[TARGET].to_numpy(), np.round(price, 2))


def test_thousands_and_decimal_marks_must_differ():
    with pytest.raises(ConfigError, match=r"data\.thousands '\.' is also data\.decimal"):
        build_config({"data": {"path": "x.csv", "timestamp_column": "t", "thousands": "."}})


@pytest.mark.parametrize(("name", "first", "per_day", "freq"), [
    ("HE", 1, 24, "h"),  # ERCOT / PJM: hour ending 1..24
    ("Hour", 0, 24, "h"),  # hour beginning 0..23
    ("SETTLEMENT_PERIOD", 1, 48, "30min"),  # GB / AEMO settlement periods 1..48
])
def test_period_numbers_beside_dates_are_times_of_day(tmp_path, name, first, per_day, freq):
    """Energy-market exports write 'Date,HE,Price' with HE 1..24: init took HE for a key of 24
    daily series. A column named like an hour or period whose whole numbers count the periods
    of the day is now data.time_of_day_column, each period read as its start."""
    from lstmflow.data.ingest import ingest

    days = pd.date_range("2022-01-01", periods=120, freq="D")
    rng = np.random.default_rng(2)
    rows = [(d.strftime("%m/%d/%Y"), p, 50 + 10 * np.sin(p / per_day * 6.28) + rng.normal())
            for d in days for p in range(first, first + per_day)]
    path = tmp_path / "market.csv"
    pd.DataFrame(rows, columns=["Date", name, "Price"]).to_csv(path, index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    data = inf.raw["data"]
    assert data["time_of_day_column"] == name and "series_column" not in data
    assert data["freq"] == freq and data["target_column"] == "Price"
    out = tmp_path / "market.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert len(frame) == 120 * per_day and frame[TARGET].notna().all()
    assert frame[TIME].iloc[0] == pd.Timestamp("2022-01-01 00:00")
    assert frame[TIME].iloc[-1] == pd.Timestamp("2022-04-30 23:00" if per_day == 24
                                                 else "2022-04-30 23:30")
    keyed = pd.DataFrame(rows, columns=["Date", "zone", "Price"])  # not named like a period
    assert assign_columns(keyed, "zones.csv").series == "zone"


def test_month_first_dates_are_told_from_day_first_across_the_whole_column(tmp_path):
    """The format was guessed from the first 500 stamps: 5-minute readings stamped
    '01/02/2022 10:05' fill 500 rows within two days, where '%d/%m/%Y' parses as well as
    '%m/%d/%Y', and the run then failed on '01/13/2022'. Distinct values spread over the
    whole column decide it now."""
    stamps = pd.date_range("2022-01-01", periods=20 * 288, freq="5min")
    df = pd.DataFrame({"when": stamps.strftime("%m/%d/%Y %H:%M"),
                       "value": np.random.default_rng(3).normal(size=len(stamps)).cumsum()})
    cols = assign_columns(df, "logger.csv")
    assert (cols.timestamp, cols.timestamp_format) == ("when", "%m/%d/%Y %H:%M")


def test_a_column_of_years_is_an_annual_timestamp_and_split_dates_are_named(tmp_path):
    """'Year,Value' (annual data) was refused: no column parsed as timestamps. A whole-number
    column named like a year now does ('%Y'), and the run reads it; a year beside month
    columns is not taken for the timestamp, and the refusal says the dates are split."""
    from lstmflow.data.ingest import ingest

    years = np.arange(1900, 2021)
    path = tmp_path / "annual.csv"
    pd.DataFrame({"Year": years, "Value": np.random.default_rng(4).normal(size=len(years))}
                 ).to_csv(path, index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert inf.raw["data"]["timestamp_format"] == "%Y"
    assert inf.raw["data"]["freq"].startswith(("YS", "AS"))
    out = tmp_path / "annual.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert frame[TIME].iloc[0] == pd.Timestamp("1900-01-01") and len(frame) == len(years)
    split = tmp_path / "split.csv"
    pd.DataFrame({"Year": np.repeat([2000, 2001], 12), "Month": np.tile(np.arange(1, 13), 2),
                  "Value": np.arange(24.0)}).to_csv(split, index=False)
    with pytest.raises(DataError, match=r"dates seem split over columns \['Month'\]"):
        infer_config(str(split), try_transforms=False, **QUIET)
    counted = pd.DataFrame({"day": np.arange(1, 400), "v": 1.0})  # no year: nothing split
    with pytest.raises(DataError, match=r"give the file a date or datetime column$"):
        assign_columns(counted, "days.csv")
    days = pd.date_range("2020-01-01", periods=800, freq="D")  # a year derived from a date
    both = pd.DataFrame({"Year": days.year, "obs": days.strftime("%Y-%m-%d"), "v": 1.0})
    assert assign_columns(both, "both.csv", target="v").timestamp == "obs"


@pytest.mark.parametrize(("stamp", "fmt"), [
    ("%b-%Y", "%b-%Y"), ("%b-%y", "%b-%y"), ("%B %Y", "%B %Y"), ("%d %b %Y", "%d %b %Y"),
    ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M %p"), ("%d/%m/%y", "%d/%m/%y"),
])
def test_month_names_two_digit_years_and_am_pm_parse(stamp, fmt):
    """Spreadsheet exports write 'Jan-20', 'January 2020', '31 Jan 2020', '1/31/2020 1:00 PM':
    none was among the formats tried."""
    freq = "MS" if "%d" not in stamp else ("h" if "%I" in stamp else "D")
    stamps = pd.date_range("2019-01-01", periods=300, freq=freq)
    df = pd.DataFrame({"Date": stamps.strftime(stamp), "value": np.arange(300.0)})
    cols = assign_columns(df, "sheet.csv")
    assert (cols.timestamp, cols.timestamp_format) == ("Date", fmt)


@pytest.mark.parametrize("write", ["{y}Q{q}", "{y}-Q{q}", "Q{q} {y}"])
def test_quarters_are_timestamps(tmp_path, write):
    """Quarterly macro data ('2020Q1', '2020-Q1', 'Q1 2020') had no timestamp column; it is
    now data.timestamp_format 'quarter', each quarter read as its first day, and a value that
    is no quarter is refused by name."""
    from lstmflow.data.ingest import ingest

    quarters = [write.format(y=y, q=q) for y in range(1990, 2024) for q in range(1, 5)]
    path = tmp_path / "gdp.csv"
    pd.DataFrame({"period": quarters, "gdp": np.linspace(100, 200, len(quarters))}
                 ).to_csv(path, index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert inf.raw["data"]["timestamp_format"] == "quarter"
    out = tmp_path / "gdp.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert list(frame[TIME].iloc[:2]) == [pd.Timestamp("1990-01-01"), pd.Timestamp("1990-04-01")]
    path.write_text(path.read_text().replace(quarters[5], "2021Q5"))
    with pytest.raises(DataError, match=r"column 'period': 1 timestamp\(s\) are not quarters"):
        ingest(load_config(out).data)


def test_title_lines_before_the_header_are_skipped(tmp_path):
    """Agency exports put a title and a source note above the table: pandas then failed with
    'Error tokenizing data. C error: Expected 1 fields in line 4, saw 2'. init finds the
    header line, writes data.skip_rows, and the run reads from there."""
    from lstmflow.data.ingest import ingest

    days = pd.date_range("2020-01-01", periods=400, freq="D")
    body = "\n".join(f"{d:%Y-%m-%d};{v:.1f}" for d, v in zip(days, np.arange(400.0), strict=True))
    path = tmp_path / "flow.csv"
    path.write_text('"Daily flow, station 123"\n"Source: an agency; provisional"\n\n'
                    f"date;flow\n{body}\n")
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    data = inf.raw["data"]
    assert (data["skip_rows"], data["delimiter"], data["target_column"]) == (3, ";", "flow")
    out = tmp_path / "flow.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert len(frame) == 400 and frame[TARGET].iloc[-1] == 399.0
    ragged = tmp_path / "ragged.csv"  # rows that leave trailing fields out keep their header
    ragged.write_text("date,a,b\n" + "\n".join(
        f"{d:%Y-%m-%d},{i}" + (f",{i}" if i % 3 == 0 else "") for i, d in enumerate(days)) + "\n")
    assert "skip_rows" not in infer_config(str(ragged), target="a", try_transforms=False,
                                           **QUIET).raw["data"]


def test_a_parquet_frame_saved_with_its_datetime_index_is_read(tmp_path):
    """`df.to_parquet()` of a frame indexed by time keeps the stamps in the pandas index: init
    found no timestamp column and the run could not name one. The index is read as columns
    now, a (series, time) MultiIndex as a long panel."""
    from lstmflow.data.ingest import ingest

    idx = pd.date_range("2021-01-01", periods=400, freq="h", name="Date")
    load = np.random.default_rng(5).normal(size=400).cumsum()
    path = tmp_path / "load.parquet"
    pd.DataFrame({"load": load}, index=idx).to_parquet(path)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert (inf.raw["data"]["timestamp_column"], inf.raw["data"]["target_column"]) == ("Date",
                                                                                       "load")
    out = tmp_path / "load.yaml"
    out.write_text(render_yaml(inf, "init"))
    assert np.allclose(ingest(load_config(out).data).frame[TARGET], load)
    panel = pd.concat({s: pd.DataFrame({"load": load}, index=idx) for s in ("north", "south")},
                      names=["region", "Date"])
    panel.to_parquet(tmp_path / "panel.parquet")
    cols = assign_columns(pd.read_parquet(tmp_path / "panel.parquet").reset_index(), "p")
    assert (cols.series, cols.timestamp) == ("region", "Date")
    assert infer_config(str(tmp_path / "panel.parquet"), try_transforms=False,
                        **QUIET).raw["data"]["series_column"] == "region"


@pytest.mark.parametrize("freq", ["D", "h"])
def test_spreadsheet_serial_days_are_timestamps(tmp_path, freq):
    """A Date column saved as spreadsheet serial days (43831 is 2020-01-01; 43831.5 noon) was
    refused as no timestamp; it is data.timestamp_format 'excel' now, read to the second."""
    from lstmflow.data.ingest import ingest

    stamps = pd.date_range("2020-01-01", periods=500, freq=freq)
    serial = (stamps - pd.Timestamp("1899-12-30")) / pd.Timedelta("1D")
    path = tmp_path / "sheet.csv"
    pd.DataFrame({"Date": serial, "kw": np.arange(500.0)}).to_csv(path, index=False)
    inf = infer_config(str(path), try_transforms=False, **QUIET)
    assert inf.raw["data"]["timestamp_format"] == "excel" and inf.raw["data"]["freq"] == freq
    out = tmp_path / "sheet.yaml"
    out.write_text(render_yaml(inf, "init"))
    frame = ingest(load_config(out).data).frame
    assert (frame[TIME] == stamps).all()
