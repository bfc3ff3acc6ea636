"""The flow's parameters: one config + single-field overrides, and the schema the UI form and
the server's creation check are built from (real Prefect schema code, no server)."""

from __future__ import annotations

import json

import pytest
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools import ValidationError, validate

from flows.training import train_flow
from lstmflow.config import ConfigError, config_from_parameters, load_config
from lstmflow.deploy import config_parameters
from tests.conftest import ROOT

DEFAULT = ROOT / "configs" / "default.yaml"


@pytest.fixture(scope="module")
def schema() -> dict:
    return parameter_schema(train_flow).model_dump_for_openapi()


@pytest.fixture(scope="module")
def deployed() -> dict:
    """The `config` parameter as `prefect deploy` writes it from configs/default.yaml."""
    return config_parameters(str(DEFAULT))["config"]


def test_a_single_override_keeps_every_other_field(deployed):
    cfg = config_from_parameters(deployed, ["training.max_steps=200", "data.series=[AAPL, MSFT]"])
    assert cfg.training.max_steps == 200 and cfg.data.series == ["AAPL", "MSFT"]
    expected = load_config(DEFAULT).model_dump(mode="json")
    expected["training"]["max_steps"], expected["data"]["series"] = 200, ["AAPL", "MSFT"]
    assert cfg.model_dump(mode="json") == expected


def test_a_model_without_overrides_passes_through(deployed):
    cfg = load_config(DEFAULT)
    assert config_from_parameters(cfg) is cfg
    assert config_from_parameters(cfg, ["forecast.horizon=3"]).forecast.horizon == 3
    assert cfg.forecast.horizon == 5  # the caller's config is not changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["features.macd_spans=[26, 12, 9]"],
         "config key 'features': Value error, features.macd_spans must be [fast, slow, signal] "
         "with fast < slow"),
        (["data.layout=wide"], "data.layout 'wide' takes no series_column and no covariates"),
        (["forecast.horizon=0"], "config key 'forecast.horizon': Input should be greater than or"),
        (["training.max_steps"], "parameter 'overrides': --set expects dotted.key=value"),
        (["forecast.horizon.x=1"], "parameter 'overrides': --set forecast.horizon.x: 'horizon' is"),
    ],
)
def test_bad_parameters_fail_in_one_line_naming_the_key(deployed, change, message):
    with pytest.raises(ConfigError) as err:
        config_from_parameters(deployed, change)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("bad", [["x"], "training.max_steps=200", [3]])
def test_overrides_that_are_not_a_list_of_strings_are_refused(deployed, bad):
    with pytest.raises(ConfigError, match="dotted"):
        config_from_parameters(deployed, bad)


def test_creation_check_refuses_bad_single_values(schema, deployed):
    validate({"config": deployed, "overrides": ["training.max_steps=200"]}, schema,
             raise_on_error=True)
    bad = json.loads(json.dumps(deployed))
    bad["forecast"]["horizon"] = 0
    with pytest.raises(ValidationError, match="horizon"):
        validate({"config": bad}, schema, raise_on_error=True)
    with pytest.raises(ValidationError, match="does not match"):
        validate({"config": deployed, "overrides": ["no equals sign"]}, schema,
                 raise_on_error=True)


def test_form_shows_defaults_titles_and_bounds(schema):
    defs = schema["definitions"]
    for name, section in defs.items():
        for field, prop in section["properties"].items():
            assert prop.get("description") or "$ref" in prop, f"{name}.{field} has no description"
            if prop.get("type") in ("array", "object"):  # default_factory would show empty
                assert "default" in prop, f"{name}.{field} has no literal default"
    features = defs["FeaturesConfig"]["properties"]
    assert features["rolling_mean_windows"]["default"] == [5, 20]
    assert "Allowed: each 2 to 10000." in features["rolling_mean_windows"]["description"]
    assert defs["ForecastConfig"]["properties"]["horizon"]["description"].endswith(
        "Allowed: 1 to 1000.")
    assert "Allowed: > 0, < 1." in defs["TrainingConfig"]["properties"]["lr_factor"]["description"]
    titles = {k: v.get("title", "") for k, v in defs["PipelineConfig"]["properties"].items()}
    assert titles["forecast"] == "Forecast: horizon and history"
    assert all("Config" not in t for t in titles.values())


@pytest.mark.parametrize(("field", "key"), [("bounds", "Adj Close"), ("severity", "jump")])
def test_dict_settings_give_valid_json_examples(schema, field, key):
    from lstmflow.config import QualityConfig

    prop = schema["definitions"]["QualityConfig"]["properties"][field]
    example = prop["description"].split("JSON, e.g. ")[1].split("; {}")[0]
    parsed = json.loads(example)
    assert key in parsed and parsed == prop["examples"][0]
    QualityConfig.model_validate({field: parsed})
