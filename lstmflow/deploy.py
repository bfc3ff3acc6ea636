"""Steps that prefect.yaml names, so that no deployment stores an absolute path or a copy of a
config by hand (plain functions; Prefect imports them by name).

`set_project_directory` is a pull step, run by every flow run on the worker: it moves into the
checkout that the worker's Python imports lstmflow from. `config_parameters` is a build step,
run by `prefect deploy`: it turns a YAML config file into the deployment's `config` parameter.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lstmflow.config import ConfigError, load_config

HOME_VARIABLE = "LSTMFLOW_HOME"
CONFIG_VARIABLE = "LSTMFLOW_DEPLOY_CONFIG"  # deploy another config file without editing prefect.yaml
ENTRYPOINT = Path("flows") / "training.py"


def project_root() -> Path:
    """The checkout to run flows from: $LSTMFLOW_HOME when set, else the folder holding the
    imported `lstmflow` package (an editable install, as `make` makes)."""
    env = os.environ.get(HOME_VARIABLE, "").strip()
    root = Path(env).expanduser().resolve() if env else Path(__file__).resolve().parents[1]
    if not (root / ENTRYPOINT).is_file():
        where = f"${HOME_VARIABLE} ({env})" if env else f"the folder lstmflow is imported from ({root})"
        raise ConfigError(
            f"{where} has no {ENTRYPOINT}: start the worker with the project's own Python "
            f"(`make worker` in the checkout, which installs it editable), or set "
            f"{HOME_VARIABLE} to the checkout in the worker's environment"
        )
    return root


def set_project_directory() -> dict[str, str]:
    """Pull step: the flow run's working directory is the project root; relative paths in a
    config (data, outputs) resolve against it."""
    return {"directory": str(project_root())}


def config_parameters(config_file: str, overrides: list[str] | None = None) -> dict[str, Any]:
    """Build step: `{"config": ..., "name": ...}`, every field of the validated config file
    (with optional `overrides`), so the UI form opens filled in with the file's values, and its
    name (the registry the deployment's event triggers match). $LSTMFLOW_DEPLOY_CONFIG, when
    set, names the config file instead (`LSTMFLOW_DEPLOY_CONFIG=my.yaml make deploy`)."""
    cfg = load_config(os.environ.get(CONFIG_VARIABLE, "").strip() or config_file, overrides)
    return {"config": cfg.model_dump(mode="json"), "name": cfg.name}
