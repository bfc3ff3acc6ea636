"""prefect.yaml's steps: the working directory comes from the checkout, the parameters from the
config file (the integration test in test_server.py deploys it to a real server)."""

from __future__ import annotations

import pytest
import yaml

from lstmflow.config import ConfigError, load_config
from lstmflow.deploy import config_parameters, project_root, set_project_directory
from tests.conftest import ROOT


def test_project_root_is_the_checkout_lstmflow_is_imported_from(monkeypatch):
    monkeypatch.delenv("LSTMFLOW_HOME", raising=False)
    assert project_root() == ROOT
    assert set_project_directory() == {"directory": str(ROOT)}


def test_lstmflow_home_names_another_checkout(monkeypatch, tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "training.py").write_text("")
    monkeypatch.setenv("LSTMFLOW_HOME", str(tmp_path))
    assert project_root() == tmp_path.resolve()


def test_a_folder_without_the_flows_is_refused_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("LSTMFLOW_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        project_root()
    assert f"$LSTMFLOW_HOME ({tmp_path}) has no flows/training.py" in str(err.value)
    assert "make worker" in str(err.value)


def test_config_parameters_is_the_whole_validated_file():
    params = config_parameters(str(ROOT / "configs" / "default.yaml"))
    cfg = load_config(ROOT / "configs" / "default.yaml")
    assert params == {"config": cfg.model_dump(mode="json"), "name": cfg.name}
    assert config_parameters(str(ROOT / "configs" / "default.yaml"),
                             ["training.max_steps=300"])["config"]["training"]["max_steps"] == 300
    with pytest.raises(ConfigError, match="does not exist"):
        config_parameters("configs/nope.yaml")


def test_another_config_is_deployed_without_editing_prefect_yaml(monkeypatch):
    monkeypatch.setenv("LSTMFLOW_DEPLOY_CONFIG", str(ROOT / "configs" / "co2.yaml"))
    params = config_parameters(str(ROOT / "configs" / "default.yaml"))
    assert params["name"] == "co2" and params["config"]["data"]["target_column"] == "co2"


def test_prefect_yaml_stores_no_path_and_no_copy_of_a_config():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert spec["pull"] == [{"lstmflow.deploy.set_project_directory": {}}]
    for dep in spec["deployments"]:
        assert dep["enforce_parameter_schema"] is True
        for step in dep.get("build", []):  # every build step names a config file that loads
            (name, args), = step.items()
            if name == "lstmflow.deploy.config_parameters":
                load_config(ROOT / args["config_file"])
                assert dep["parameters"]["config"] == f"{{{{ {args['id']}.config }}}}"
    assert "$" not in (ROOT / "prefect.yaml").read_text().split("deployments:")[0]
