"""Config: YAML + --set overrides, refusals that name the key."""

from __future__ import annotations

import pytest

from lstmflow.config import ConfigError, apply_overrides, build_config, load_config
from tests.conftest import ROOT


def test_default_config_loads():
    cfg = load_config(ROOT / "configs" / "default.yaml")
    assert cfg.data.target_column == "Adj Close"
    assert cfg.min_history() == cfg.forecast.input_size + cfg.forecast.horizon + \
        cfg.evaluation.val_size + cfg.evaluation.test_size


def test_overrides_parse_as_yaml():
    raw = apply_overrides({"data": {"path": "x.csv"}},
                          ["data.covariates=[Open, Volume]", "forecast.horizon=7", "data.freq=h"])
    assert raw["data"]["covariates"] == ["Open", "Volume"]
    assert raw["forecast"]["horizon"] == 7
    assert raw["data"]["freq"] == "h"


def test_override_without_equals_is_refused():
    with pytest.raises(ConfigError, match=r"dotted\.key=value"):
        apply_overrides({}, ["forecast.horizon"])


def test_override_into_a_value_is_refused():
    with pytest.raises(ConfigError, match="'horizon' is not a section"):
        apply_overrides({"forecast": {"horizon": 3}}, ["forecast.horizon.x=1"])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"data": {"path": "a", "timestamp_column": "t"}, "bogus": 1}, "config key 'bogus': unknown key"),
        ({"data": {"path": "a", "timestamp_column": "t", "colour": 1}},
         "config key 'data.colour': unknown key"),
        ({"data": {"path": "a", "timestamp_column": "t"}, "forecast": {"horizon": 0}},
         "config key 'forecast.horizon'"),
        ({"data": {"path": "a", "timestamp_column": "t"}, "model": {"dropout": 1.5}},
         "config key 'model.dropout'"),
        ({"data": {"path": "a", "timestamp_column": "t"}, "training": {"optimizer": "sgd"}},
         "config key 'training.optimizer'"),
        ({"data": {"timestamp_column": "t"}}, "config key 'data.path': Field required"),
        ({"data": {"path": "a", "timestamp_column": "t", "layout": "wide", "series_column": "s"}},
         "wide"),
        ({"data": {"path": "a", "timestamp_column": "t"}, "name": "../evil"}, "config key 'name'"),
    ],
)
def test_bad_values_are_refused_naming_the_key(raw, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        build_config(raw)


def test_yaml_that_is_not_a_mapping(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(p)


def test_invalid_yaml(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)
