"""Prediction with the verified champion: every series forecast after its last timestamp in
original units, the stored state applied (never refitted), data that does not fit the champion
refused by name, a damaged champion refused by file, rollback followed by predict, and the flow
and the plain path writing the same file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from expectations.report import ingested_gate
from lstmflow.config import build_config
from lstmflow.data.schema import DataError
from lstmflow.serve.actions import rollback
from lstmflow.serve.predict import PREDICTION, run_prediction
from lstmflow.serve.registry import IntegrityError, RegistryError, champion
from tests.conftest import register_version, small_config_dict

COLUMNS = ["series_id", "timestamp", "forecast", "model_version"]


def _config(data: Path, out: Path, **overrides):
    raw = small_config_dict(data, out, registry={"promote": "always"}, **overrides)
    raw["data"]["covariates"] = ["Volume"]
    return build_config(raw)


@pytest.fixture(scope="module")
def champ(sample_slice, tmp_path_factory):
    """A registry whose champion 'v1' reads the target and the Volume covariate."""
    out = tmp_path_factory.mktemp("predict")
    cfg = _config(sample_slice, out)
    register_version(cfg, "v1", seed=1)
    return cfg, pd.read_csv(sample_slice)


def _predict(cfg, data: Path | None = None, out: Path | None = None):
    if data is not None:
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"path": str(data)})})
    return run_prediction(cfg, out, ingested_gate)


def _csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_every_series_is_forecast_after_its_last_timestamp(champ):
    cfg, raw = champ
    record = _predict(cfg)
    table = pd.read_parquet(record["out"])
    assert list(table.columns) == COLUMNS and set(table["model_version"]) == {"v1"}
    h = cfg.forecast.horizon
    for sid, g in table.groupby("series_id"):
        last = pd.Timestamp(raw.loc[raw["Ticker"] == sid, "Date"].max())
        assert list(g["timestamp"]) == list(pd.bdate_range(last, periods=h + 1)[1:])
        assert np.isfinite(g["forecast"]).all() and (g["forecast"] > 0).all()  # price levels
    assert sorted(table["series_id"].unique()) == ["AAPL", "MSFT"]
    folder = Path(record["folder"])
    assert json.loads((folder / PREDICTION).read_text())["manifest_sha256"] == \
        champion(Path(cfg.output_dir) / "registry" / cfg.name)["manifest_sha256"]
    assert (folder / "gate-ingested.csv").is_file() and record["gate"]["success"] is True


def test_the_stored_state_is_applied_never_refitted(champ, tmp_path):
    """Only the last 150 rows of each series: a refit scaler or imputer would move every
    forecast; the stored state gives the same ones (features look back at most 25 rows)."""
    cfg, raw = champ
    full = pd.read_parquet(_predict(cfg)["out"])
    recent = _csv(raw.groupby("Ticker").tail(150), tmp_path / "recent.csv")
    cut = pd.read_parquet(_predict(cfg, recent)["out"])
    pd.testing.assert_frame_equal(cut, full)


def test_a_file_without_a_covariate_column_is_refused(champ, tmp_path):
    cfg, raw = champ
    path = _csv(raw.drop(columns=["Volume"]), tmp_path / "no_volume.csv")
    with pytest.raises(DataError, match=r"'Volume'"):
        _predict(cfg, path, tmp_path / "f.parquet")
    assert not (tmp_path / "f.parquet").exists()


def test_data_on_another_grid_step_is_refused(champ, tmp_path):
    cfg, raw = champ
    hourly = raw.copy()
    hourly["Date"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        hourly.groupby("Ticker").cumcount(), unit="h")
    with pytest.raises(DataError, match=r"timestamps are 0 days 01:00:00 apart, the data "
                       r"champion 'v1' was trained on were 1 days 00:00:00 apart \(freq 'B'\)"):
        _predict(cfg, _csv(hourly, tmp_path / "hourly.csv"))


def test_unknown_series_are_refused_and_missing_ones_are_warned_about(champ, tmp_path):
    cfg, raw = champ
    extra = raw[raw["Ticker"] == "AAPL"].assign(Ticker="ZZZ")
    with pytest.raises(DataError, match=r"1 series the champion 'v1' was not trained on \(ZZZ\)"):
        _predict(cfg, _csv(pd.concat([raw, extra]), tmp_path / "extra.csv"))
    record = _predict(cfg, _csv(raw[raw["Ticker"] == "AAPL"], tmp_path / "aapl.csv"))
    assert any("not in the data and get no forecast: MSFT" in w for w in record["warnings"])
    assert set(pd.read_parquet(record["out"])["series_id"]) == {"AAPL"}


def test_a_quantile_champion_gives_intervals(sample_slice, tmp_path):
    cfg = _config(sample_slice, tmp_path / "out", model={"hidden_size": 8, "num_layers": 1,
                                                         "dropout": 0.0, "loss": "quantile"})
    register_version(cfg, "q1")
    table = pd.read_parquet(_predict(cfg)["out"])
    assert list(table.columns) == ["series_id", "timestamp", "forecast", "lower", "upper",
                                   "model_version"]
    assert np.isfinite(table[["forecast", "lower", "upper"]].to_numpy()).all()


def test_no_champion_and_a_damaged_one_are_refused(sample_slice, tmp_path):
    cfg = _config(sample_slice, tmp_path / "out")
    with pytest.raises(RegistryError, match=r"has no champion to forecast with: train and "
                       r"promote a model first"):
        _predict(cfg)
    root = register_version(cfg, "v1")["root"]
    state = root / "versions" / "v1" / "state.json"
    state.write_text(state.read_text().replace('"version": 2', '"version": 3'))
    with pytest.raises(IntegrityError, match=r"file 'state\.json' does not match the SHA-256"):
        _predict(cfg)
    assert not (tmp_path / "out" / "predictions").exists()


def test_rollback_restores_the_previous_champion_and_predict_uses_it(sample_slice, tmp_path):
    cfg = _config(sample_slice, tmp_path / "out")
    register_version(cfg, "v1", seed=1)
    first = pd.read_parquet(_predict(cfg)["out"])
    register_version(cfg, "v2", seed=2)
    second = pd.read_parquet(_predict(cfg)["out"])
    assert set(second["model_version"]) == {"v2"}
    assert not np.allclose(first["forecast"], second["forecast"])
    pointer = rollback(Path(cfg.output_dir) / "registry" / cfg.name)
    assert pointer["version"] == "v1" and pointer["event"]["from"] == "v2"
    again = pd.read_parquet(_predict(cfg)["out"])
    pd.testing.assert_frame_equal(again, first)


def test_the_flow_writes_what_the_plain_path_writes(prefect_harness, champ, tmp_path):
    from flows.predict import predict_flow

    cfg, _ = champ
    state = predict_flow(cfg, out=str(tmp_path / "flow.parquet"), return_state=True)
    assert state.is_completed(), state.message
    plain = _predict(cfg, out=tmp_path / "plain.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "flow.parquet"),
                                  pd.read_parquet(plain["out"]))
    assert state.result()["model_version"] == "v1"
    empty = cfg.model_copy(update={"output_dir": str(tmp_path / "none")})
    state = predict_flow(empty, return_state=True)
    assert state.is_failed() and "has no champion to forecast with" in state.message


def test_new_data_far_outside_the_trained_levels_is_said(champ, tmp_path):
    """The newest window three times the level the champion was trained on: a warning naming
    the series and both ranges (the forecast still goes out); the unchanged data says nothing."""
    cfg, raw = champ
    assert not [w for w in _predict(cfg)["warnings"] if "levels it never saw" in w]
    jumped = raw.copy()
    last = jumped.groupby("Ticker").cumcount(ascending=False) < cfg.forecast.input_size
    aapl = last & (jumped["Ticker"] == "AAPL")
    jumped.loc[aapl, "Adj Close"] *= 3
    record = _predict(cfg, _csv(jumped, tmp_path / "jumped.csv"))
    said = [w for w in record["warnings"] if "levels it never saw" in w]
    assert len(said) == 1 and said[0].startswith("series 'AAPL': its newest ")
    assert "training ranges outside the range champion 'v1' was trained on" in said[0]
