"""The training flow's parameters -> one PipelineConfig: a whole config plus `--set`-style
overrides.

Prefect 3.8.8 merges a run's parameters into its deployment's one top-level key at a time
(`dict.update`), so a run that sends `config` must send all of it. A run that changes a few
fields sends `overrides` instead and keeps the deployment's `config`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field

from lstmflow.config.base import ConfigError
from lstmflow.config.locations import check_locations
from lstmflow.config.pipeline import PipelineConfig, apply_overrides, build_config

OVERRIDE_PATTERN = r"^\s*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\s*="
Override = Annotated[str, Field(pattern=OVERRIDE_PATTERN)]


def config_from_parameters(
    config: PipelineConfig | dict[str, Any], overrides: Sequence[str] | None = None
) -> PipelineConfig:
    """Validate the flow's `config` (a model, or JSON from a deployment or the UI) with
    `overrides` ('dotted.key=value', values parsed as YAML) applied on top.

    Raises ConfigError naming each bad key, in one line: the flow fails with it at once; also
    when a location lies outside the worker's allowed roots (lstmflow.config.locations).
    """
    if isinstance(config, PipelineConfig) and not overrides:
        check_locations(config)
        return config
    if isinstance(config, PipelineConfig):
        raw = config.model_dump(mode="json")
    elif isinstance(config, dict):
        raw = copy.deepcopy(config)
    else:
        raise ConfigError(
            f"parameter 'config' must be a mapping of config sections, got {type(config).__name__}"
        )
    if overrides is not None and (
        not isinstance(overrides, list | tuple) or not all(isinstance(o, str) for o in overrides)
    ):
        raise ConfigError(
            "parameter 'overrides' must be a list of 'dotted.key=value' strings, "
            "e.g. [\"training.max_epochs=5\"]"
        )
    try:
        raw = apply_overrides(raw, list(overrides or []))
    except ConfigError as exc:
        raise ConfigError(f"parameter 'overrides': {exc}") from None
    config = build_config(raw)
    check_locations(config)  # refused before anything is read (LSTMFLOW_ALLOWED_ROOTS)
    return config
