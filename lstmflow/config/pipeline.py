"""The whole pipeline config, its YAML loader and `--set` overrides."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from lstmflow.config.backtest import BacktestConfig
from lstmflow.config.base import ConfigError, _Section, describe_bounds
from lstmflow.config.data import DataConfig, ForecastConfig
from lstmflow.config.fit import ModelConfig, TrainingConfig
from lstmflow.config.locations import check_options, check_url, is_url
from lstmflow.config.monitor import MonitorConfig
from lstmflow.config.notify import NotifyConfig
from lstmflow.config.prep import FeaturesConfig, PreprocessConfig
from lstmflow.config.quality import QualityConfig
from lstmflow.config.runtime import RuntimeConfig
from lstmflow.config.serve import EvaluationConfig, RegistryConfig
from lstmflow.config.tracking import TrackingConfig
from lstmflow.config.tune import TuneConfig

SEGMENT_STEPS = 12  # auto model.segment_len: about this many recurrent steps per input window
SEGMENT_MAX = 64  # auto model.segment_len at most (the key's own upper bound)

# Form titles of the sections (the Prefect UI otherwise shows the class name); a section
# without an entry keeps its class name.
SECTION_TITLES = {
    "data": "Data: where the series live and how to read them",
    "forecast": "Forecast: horizon and history",
    "quality": "Quality: data-quality gate thresholds",
    "preprocess": "Preprocess: imputation, scaling, target transform",
    "features": "Features: causal engineered inputs",
    "model": "Model: LSTM capacity and loss",
    "training": "Training: optimiser and guards",
    "evaluation": "Evaluation: held-out tail and baselines",
    "registry": "Registry: promotion rule, margin over the champion, skipping unchanged runs",
    "backtest": "Backtest: walk-forward folds",
    "runtime": "Runtime: threads and task runners",
    "notify": "Notify: where failed runs are announced",
    "tune": "Tune: the hyperparameter search of `lstmflow tune`",
    "tracking": "Tracking: TensorBoard, MLflow (curves, results, the champion's alias)",
    "monitor": "Monitor: the served champion's live error and when it counts as degraded",
}


def _title_sections(schema: dict[str, Any]) -> None:
    describe_bounds(schema)
    for key, title in SECTION_TITLES.items():
        if key in schema.get("properties", {}):
            schema["properties"][key]["title"] = title


class PipelineConfig(_Section):
    """Everything one training run needs; the flow's single parameter."""

    model_config = ConfigDict(json_schema_extra=_title_sections)

    name: str = Field("lstmflow", pattern=r"^[A-Za-z0-9_.-]+$", description="Run-name prefix.")
    data: DataConfig
    forecast: ForecastConfig = Field(default_factory=ForecastConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    preprocess: PreprocessConfig = Field(default_factory=PreprocessConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    tune: TuneConfig = Field(default_factory=TuneConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    output_dir: str = Field(
        "outputs", description="Where runs, reports and the model registry are kept: a local "
        "folder, or an fsspec URL shared by several machines (s3://bucket/prefix with "
        "pip install 'lstmflow[s3]'; gs://, az://). A URL is worked in through a local mirror "
        "(LSTMFLOW_CACHE_DIR, default ~/.cache/lstmflow); its credentials come from the "
        "worker's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL).")
    storage_options: dict[str, Any] = Field(
        {}, description="fsspec options for a URL output_dir, such as "
        "{endpoint_url: http://minio:9000, client_kwargs: {region_name: eu-west-1}}. No "
        "credentials: the config is shown in the Prefect UI; set them in the environment.")

    @field_validator("output_dir")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        """A URL of a scheme fsspec does not know (a typo) would otherwise become a local folder
        named 's4:', and the user would believe the team shared a registry."""
        if is_url(value):
            check_url(value)
        return value

    @field_validator("storage_options")
    @classmethod
    def _no_credentials(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_options(value)
        return value

    @model_validator(mode="after")
    def _segments_fit_the_window(self) -> PipelineConfig:
        if self.model.highway > self.forecast.input_size:
            raise ValueError(f"model.highway ({self.model.highway}) must not exceed "
                             f"forecast.input_size ({self.forecast.input_size})")
        if (self.model.segment_len or 0) > self.forecast.input_size:
            raise ValueError(f"model.segment_len ({self.model.segment_len}) must not exceed "
                             f"forecast.input_size ({self.forecast.input_size})")
        searched = self.tune.space.input_size
        if searched and (self.model.segment_len or 0) > searched[0]:
            raise ValueError(f"model.segment_len ({self.model.segment_len}) must not exceed "
                             f"the low end of tune.space.input_size ({searched[0]}): those "
                             "trials' windows would hold no segment; raise the low end or leave "
                             "model.segment_len empty (automatic: it follows each window)")
        return self

    def segment_len(self) -> int:
        """Steps per LSTM input segment: `model.segment_len`, else the power of two nearest
        input_size / SEGMENT_STEPS (96 -> 8, 192 -> 16, 64 -> 4, under 17 -> 1), at most 64."""
        if self.model.segment_len is not None:
            return self.model.segment_len
        size = self.forecast.input_size
        return int(min(size, SEGMENT_MAX, max(1, 2 ** round(math.log2(size / SEGMENT_STEPS)))))

    def min_history(self) -> int:
        """Fewest rows a series needs to yield at least one train, val and test window."""
        need = (
            self.forecast.input_size
            + self.forecast.horizon
            + self.evaluation.val_size
            + self.evaluation.test_size
        )
        return max(need, self.quality.min_history or 0)


def _format_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"config key '{key}': {msg}")
    return "; ".join(lines)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line ('line 2, column 2: expected ...'): PyYAML's own text spans
    several lines with a caret drawing, which breaks a one-paragraph error."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}" + (f" ({context})" if context else "")


def parse_override(item: str) -> tuple[list[str], Any]:
    """Split 'a.b.c=value' into a key path and a YAML-parsed value."""
    if "=" not in item:
        raise ConfigError(f"--set expects dotted.key=value, got '{item}'")
    key, raw = item.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set expects dotted.key=value, got '{item}'")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: value is not valid YAML ({yaml_problem(exc)})") from None
    return parts, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted keys in a nested dict; values parse as YAML (so [a,b] is a list)."""
    for item in overrides:
        parts, value = parse_override(item)
        node = raw
        for p in parts[:-1]:
            child = node.get(p)
            if child is None:
                child = node[p] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {'.'.join(parts)}: '{p}' is not a section")
            node = child
        node[parts[-1]] = value
    return raw


def build_config(raw: dict[str, Any]) -> PipelineConfig:
    """Validate a plain dict into a PipelineConfig, or raise ConfigError naming each bad key."""
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_error(err)) from None


def with_overrides(cfg: PipelineConfig, overrides: list[str]) -> PipelineConfig:
    """A copy of a validated config with `--set`-style overrides applied (and validated): how
    a remedy such as 'training.learning_rate=1e-4' re-runs a fit on the same split and seed."""
    return build_config(apply_overrides(cfg.model_dump(mode="json"), list(overrides)))


def load_config(path: str | Path, overrides: list[str] | None = None) -> PipelineConfig:
    """Read a YAML config, apply --set overrides and validate it.

    Relative `data.path` and `output_dir` are resolved against the current directory, as a
    user typing a command expects.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file '{p}' does not exist")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file '{p}' is not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file '{p}' must hold a mapping at the top level")
    return build_config(apply_overrides(raw, overrides or []))
