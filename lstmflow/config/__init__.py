"""The one pipeline config: a pydantic model loaded from YAML, also the flow's parameter.

Every field carries a description and bounds so the Prefect UI renders it as a form, and
unknown keys or out-of-range values are refused with a message that names the field. One module
per group of sections; this package re-exports them so `from lstmflow.config import X` works.
"""

from lstmflow.config.backtest import BacktestConfig
from lstmflow.config.base import ConfigError
from lstmflow.config.data import DataConfig, ForecastConfig
from lstmflow.config.fit import ModelConfig, TrainingConfig
from lstmflow.config.notify import NotifyConfig
from lstmflow.config.params import Override, config_from_parameters
from lstmflow.config.pipeline import (
    PipelineConfig,
    apply_overrides,
    build_config,
    load_config,
    parse_override,
    with_overrides,
)
from lstmflow.config.prep import FeaturesConfig, PreprocessConfig
from lstmflow.config.quality import CheckName, ColumnBounds, QualityConfig
from lstmflow.config.runtime import RuntimeConfig
from lstmflow.config.serve import EvaluationConfig, RegistryConfig
from lstmflow.config.tracking import TrackingConfig
from lstmflow.config.tune import SearchSpace, TuneConfig

__all__ = [
    "BacktestConfig", "CheckName", "ColumnBounds", "ConfigError", "DataConfig",
    "EvaluationConfig", "FeaturesConfig", "ForecastConfig", "ModelConfig", "NotifyConfig",
    "Override", "PipelineConfig",
    "PreprocessConfig", "QualityConfig", "RegistryConfig", "RuntimeConfig",
    "SearchSpace", "TrackingConfig", "TrainingConfig", "TuneConfig",
    "apply_overrides", "build_config", "config_from_parameters", "load_config", "parse_override",
    "with_overrides",
]
