"""Inputs known ahead (data.known_covariates, holidays): the lead columns hold only known inputs of
the next steps, a past-only covariate's values after the origin never change a forecast while a
known one's do (a real fit), predict reads the file's future rows and refuses a file without
them by column and date, and the config refuses what cannot be known ahead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmflow.config import build_config
from lstmflow.data.holidays import holiday_flags
from lstmflow.data.ingest import ingest
from lstmflow.data.known import lead_block
from lstmflow.data.schema import SERIES, TIME, DataError

H, N = 3, 400


def promo_series(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Daily sales that jump by 30 on promotion days (a known-ahead 0/1 plan), a weekly cycle,
    noise, and a past-only covariate `temp` of pure noise; the last H rows are the plan only."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2021-01-01", periods=n + H, freq="D")
    promo = (rng.random(n + H) < 0.2).astype(float)
    sales = 100 + 10 * np.sin(2 * np.pi * np.arange(n + H) / 7) + 30 * promo
    sales += rng.normal(0, 2, n + H)
    df = pd.DataFrame({"date": t, "sales": sales, "promo": promo, "temp": rng.normal(0, 1, n + H)})
    df.loc[n:, "sales"] = np.nan
    return df


def config(path: Path, out: Path, **data):
    return build_config({
        "name": "promo",
        "data": {"path": str(path), "timestamp_column": "date", "target_column": "sales",
                 "freq": "D", "covariates": ["temp"], "known_covariates": ["promo"], **data},
        "forecast": {"horizon": H, "input_size": 16, "intervals": []},
        "preprocess": {"target_transform": "level"},
        "features": {"rolling_mean_windows": [], "volatility_windows": [], "zscore_windows": []},
        "model": {"hidden_size": 16, "num_layers": 1, "dropout": 0.0},
        "training": {"max_steps": 300, "val_check_steps": 50, "batch_size": 32,
                     "learning_rate": 0.01, "auto_repair": 0, "seed": 0},
        "evaluation": {"val_size": 40, "test_size": 40, "season": 7},
        "registry": {"promote": "always"},
        "runtime": {"torch_threads": 1},
        "output_dir": str(out),
    })


@pytest.fixture(scope="module")
def promo_fit(tmp_path_factory):
    """A real fit on the promo series with `promo` known ahead, and its config."""
    from lstmflow.core import Forecaster

    folder = tmp_path_factory.mktemp("promo")
    path = folder / "sales.csv"
    promo_series().to_csv(path, index=False)
    cfg = config(path, folder / "out")
    data = ingest(cfg.data)
    forecaster = Forecaster(cfg)
    fit = forecaster.fit(data.frame, forecaster.split(data.frame))
    assert fit.ok, fit
    return cfg, data, fit.fitted


def test_lead_columns_hold_the_next_rows_of_the_same_series_only():
    frame = pd.DataFrame({SERIES: ["a"] * 4 + ["b"] * 3, TIME: pd.Timestamp("2024-01-01"),
                          "k": [1, 2, 3, 4, 10, 20, 30]})
    out = lead_block(frame, ["k"], 2)  # [7, 3]: steps 0, +1, +2
    np.testing.assert_array_equal(out[0], [1, 2, 3])
    np.testing.assert_array_equal(out[2], [3, 4, np.nan])  # nothing of series b leaks in
    np.testing.assert_array_equal(out[6], [30, np.nan, np.nan])
    future = pd.DataFrame({SERIES: ["b", "b", "a"], TIME: pd.Timestamp("2024-02-01")})
    vals = np.array([[40.0], [50.0], [5.0]], dtype="float32")
    out = lead_block(frame, ["k"], 2, future, vals)
    np.testing.assert_array_equal(out[3], [4, 5, np.nan])  # a's one future row, then none
    np.testing.assert_array_equal(out[6], [30, 40, 50])


def test_holiday_flags_follow_the_country_and_its_subdivision():
    days = pd.to_datetime(["2020-07-03", "2020-07-04", "2020-12-24", "2020-12-25",
                           "2020-03-31 13:00"], format="ISO8601").to_numpy()
    np.testing.assert_array_equal(holiday_flags(days, "US"), [1, 1, 0, 1, 0])  # 7-03: observed
    cesar_chavez = pd.to_datetime(["2020-03-31"]).to_numpy()
    assert holiday_flags(cesar_chavez, "US", "CA")[0] == 1 and holiday_flags(cesar_chavez, "US")[0] == 0


@pytest.mark.parametrize("data, features, message", [
    ({"known_covariates": ["sales"]}, {}, "target"),
    ({"known_covariates": ["promo", "promo"]}, {}, "repeats"),
    ({}, {"holidays_country": "XX"}, "not a country"),
    ({}, {"holidays_country": "US", "holidays_subdivision": "ZZ"}, "not a subdivision"),
    ({}, {"holidays_subdivision": "CA"}, "needs features.holidays_country"),
])
def test_the_config_refuses_what_cannot_be_known_ahead(tmp_path, data, features, message):
    raw = {"name": "x", "data": {"path": str(tmp_path / "f.csv"), "timestamp_column": "date",
                                 "target_column": "sales", **data},
           "features": features, "output_dir": str(tmp_path)}
    with pytest.raises(ValueError, match=message):
        build_config(raw)


def test_ingest_sets_the_rows_after_the_last_target_aside(tmp_path):
    path = tmp_path / "sales.csv"
    promo_series(60).to_csv(path, index=False)
    data = ingest(config(path, tmp_path).data)
    assert len(data.frame) == 60 and data.frame["target"].notna().all()
    assert len(data.future) == H and list(data.future["promo"].notna()) == [True] * H
    assert data.report["future_rows"] == H


def test_a_past_only_covariate_after_the_origin_never_changes_a_forecast_a_known_one_does(
        promo_fit):
    """The same history, three futures: `temp` (past-only) changed after the origin leaves the
    forecast bit-identical, `promo` (known ahead) switched on moves it up where it is on."""
    from lstmflow.core import Forecaster

    cfg, data, fitted = promo_fit
    future = data.future.copy()
    future["promo"], future["temp"] = 0.0, 0.0
    base, _ = Forecaster.forecast(fitted, data.frame, future)
    hot = future.assign(temp=50.0)
    same, _ = Forecaster.forecast(fitted, data.frame, hot)
    np.testing.assert_array_equal(base["forecast"], same["forecast"])
    on = future.assign(promo=[0.0, 1.0, 0.0])
    moved, _ = Forecaster.forecast(fitted, data.frame, on)
    lift = (moved["forecast"] - base["forecast"]).to_numpy()  # [H]
    assert lift[1] > 10, lift  # the plan's +30 on day 2 is seen (noise sd 2)
    assert abs(lift[0]) < lift[1] / 2 and abs(lift[2]) < lift[1] / 2, lift


def test_the_known_input_lowers_the_error_on_the_same_test_points(promo_fit, tmp_path):
    """The same data and fit settings with `promo` past-only: the test MAE is far higher."""
    from lstmflow.core import Forecaster

    cfg, data, fitted = promo_fit
    known = Forecaster(cfg).evaluate(fitted, Forecaster(cfg).prepare(
        data.frame, Forecaster(cfg).split(data.frame)))
    past_cfg = config(Path(cfg.data.path), tmp_path, covariates=["temp", "promo"],
                      known_covariates=[])
    past = Forecaster(past_cfg)
    frame = ingest(past_cfg.data).frame
    frame = frame[frame["target"].notna()]
    past_fit = past.fit(frame, past.split(frame))
    unknown = past.evaluate(past_fit)
    assert known.metrics["overall"]["model"]["mae"] < 0.6 * unknown.metrics["overall"]["model"]["mae"], (
        known.metrics["overall"], unknown.metrics["overall"])


def test_predict_refuses_a_file_without_the_future_values_naming_column_and_dates(promo_fit):
    from lstmflow.core import Forecaster

    cfg, data, fitted = promo_fit
    short = data.future.iloc[:1]
    with pytest.raises(DataError, match=r"column 'promo'.*2 of the 3 steps.*2022-02-0[46]"):
        Forecaster.forecast(fitted, data.frame, short)
    with pytest.raises(DataError, match="column 'promo'"):
        Forecaster.forecast(fitted, data.frame, data.future.assign(promo=np.nan))


def test_model_inputs_up_to_t_read_a_past_only_covariate_up_to_t_only(promo_fit):
    """Every model input of rows <= t (the leads included) is bit-identical when `temp` changes
    after t; changing `promo` after t changes the leads of the rows before it, and only them."""
    from lstmflow.core import Forecaster

    cfg, data, fitted = promo_fit
    bounds = Forecaster(cfg).split(data.frame)
    base = Forecaster.apply(fitted, data.frame, bounds).arrays[0].x  # [T, F + (H+1) K]
    t = 300
    temp = data.frame.copy()
    temp.loc[t + 1:, "temp"] += 7.0
    np.testing.assert_array_equal(Forecaster.apply(fitted, temp, bounds).arrays[0].x[: t + 1],
                                  base[: t + 1])
    promo = data.frame.copy()
    promo.loc[t + 1:, "promo"] = 1.0 - promo.loc[t + 1:, "promo"]
    x = Forecaster.apply(fitted, promo, bounds).arrays[0].x
    same = (x[: t + 1] == base[: t + 1]) | (np.isnan(x[: t + 1]) & np.isnan(base[: t + 1]))
    changed = np.flatnonzero(~same.all(axis=1))
    assert changed.min() == t + 1 - H and changed.max() == t  # rows whose next H include t+1


def test_predict_reads_the_future_rows_of_the_file_and_refuses_a_file_without_them(tmp_path):
    """`lstmflow predict`'s plain path on a registered champion with `promo` known ahead: the
    file's H future rows give H forecasts after the last observation; the same file without
    them is refused by column and dates, and nothing is written."""
    from expectations.report import ingested_gate
    from lstmflow.serve.predict import run_prediction
    from tests.conftest import register_version

    path = tmp_path / "sales.csv"
    raw = promo_series(120)
    raw.to_csv(path, index=False)
    cfg = config(path, tmp_path / "out")
    register_version(cfg, "v1", seed=1)
    record = run_prediction(cfg, None, ingested_gate)
    table = pd.read_parquet(record["out"])
    assert list(table["timestamp"]) == list(raw["date"].iloc[-H:])
    assert np.isfinite(table["forecast"]).all()
    raw.iloc[:-H].to_csv(path, index=False)
    before = sorted((tmp_path / "out").rglob("forecasts.parquet"))
    with pytest.raises(DataError, match=r"sales.csv', column 'promo'.*3 of the 3 steps.*"
                                        r"2021-05-01, 2021-05-02, 2021-05-03"):
        run_prediction(cfg, None, ingested_gate)
    assert sorted((tmp_path / "out").rglob("forecasts.parquet")) == before


def test_init_proposes_a_column_known_ahead_only_when_the_file_holds_its_future(tmp_path):
    """`promo` has values after the last target: known ahead; `flag` (0/1, no future values)
    stays past-only with a note; holidays stay NOT DECIDED unless --holidays is given."""
    from lstmflow.init.build import infer_config

    raw = promo_series(300)
    raw["flag"] = (np.arange(len(raw)) % 9 == 0).astype(float)
    raw.loc[len(raw) - H:, "flag"] = np.nan
    raw.loc[len(raw) - H:, "temp"] = np.nan
    path = tmp_path / "sales.csv"
    raw.to_csv(path, index=False)
    inf = infer_config(str(path), "sales", H, str(tmp_path), try_transforms=False, log=str)
    data = inf.raw["data"]
    assert data["known_covariates"] == ["promo"] and data["covariates"] == ["temp", "flag"]
    assert any("'flag' is a 0/1 flag" in n for n in inf.notes)
    assert any("public holidays not used" in u for u in inf.undecided)
    told = infer_config(str(path), "sales", H, str(tmp_path), try_transforms=False, log=str,
                        holidays="US-NY")
    assert told.raw["features"] == {"holidays_country": "US", "holidays_subdivision": "NY"}
    assert not any("holidays" in u for u in told.undecided)
    build_config(told.raw)  # what init writes loads


def test_a_champion_that_read_the_covariate_past_only_starts_nothing_warm(tmp_path):
    """Moving `promo` from the past-only covariates to the known ones keeps the input columns
    but adds lead inputs: the champion's network does not fit, and the reason names them."""
    from lstmflow.core import Forecaster
    from lstmflow.serve.warm import incompatible, model_inputs

    path = tmp_path / "sales.csv"
    promo_series(120).to_csv(path, index=False)
    new = config(path, tmp_path)
    old = config(path, tmp_path, covariates=["temp", "promo"], known_covariates=[])
    states = []
    for cfg in (old, new):
        frame = ingest(cfg.data).frame
        states.append(Forecaster(cfg).prepare(frame, Forecaster(cfg).split(frame)).state)
    assert states[0]["inputs"] == states[1]["inputs"]
    why = incompatible(old, new, model_inputs(states[0]), model_inputs(states[1]))
    assert why is not None and "'promo@+0'" in why
    assert incompatible(new, new, model_inputs(states[1]), model_inputs(states[1])) is None
