"""The one pipeline config: a pydantic model loaded from YAML, also the flow's parameter.

Every field carries a description and bounds so the Prefect UI renders it as a form, and
unknown keys or out-of-range values are refused with a message that names the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(ValueError):
    """A config that cannot be used; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    """Where the series live and how to read them into the canonical long frame."""

    path: str = Field(description="CSV or Parquet file: local path or fsspec URL.")
    format: Literal["auto", "csv", "parquet"] = Field(
        "auto", description="File format; 'auto' decides from the file name."
    )
    layout: Literal["long", "wide"] = Field(
        "long",
        description="'long': one row per (series, timestamp). 'wide': one column per series "
        "(every column but the timestamp, or those listed in wide_columns).",
    )
    wide_columns: list[str] | None = Field(
        None, description="Wide layout only: the series columns to use (default: all)."
    )
    timestamp_column: str = Field(description="Column holding the timestamps.")
    timestamp_format: str | None = Field(
        None, description="strftime format of the timestamps; parsed as ISO 8601 when absent."
    )
    timezone: str | None = Field(
        None, description="Convert timestamps to this zone, then drop it (e.g. 'UTC')."
    )
    series_column: str | None = Field(
        None, description="Column naming the series (long layout); one series when absent."
    )
    target_column: str = Field(
        "target", description="Column to forecast (long layout)."
    )
    covariates: list[str] = Field(
        default_factory=list, description="Extra numeric input columns, observed up to time t."
    )
    freq: str | None = Field(
        None, description="Pandas frequency alias (e.g. 'D', 'B', 'h'); inferred when absent."
    )
    na_values: list[str] = Field(
        default_factory=lambda: ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "."],
        description="Tokens read as missing values.",
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV delimiter.")
    decimal: str = Field(".", min_length=1, max_length=1, description="CSV decimal mark.")
    series: list[str] | None = Field(
        None, description="Only these series (default: all in the file)."
    )
    short_series: Literal["drop", "fail"] = Field(
        "drop",
        description="A series too short for input_size + horizon + val + test: 'drop' leaves it "
        "out with a warning in the report, 'fail' refuses the run.",
    )

    @model_validator(mode="after")
    def _check_columns(self) -> DataConfig:
        if self.layout == "wide" and (self.series_column or self.covariates):
            raise ValueError("data.layout 'wide' takes no series_column and no covariates")
        return self


class ForecastConfig(_Section):
    """What is forecast: how far ahead, from how much history."""

    horizon: int = Field(5, ge=1, le=1000, description="Steps forecast at once.")
    input_size: int = Field(
        64, ge=2, le=5000, description="Steps of history the model reads (window length)."
    )


class QualityConfig(_Section):
    """Thresholds of the data-quality gates (Great Expectations)."""

    enabled: bool = Field(True, description="Run the gates (turning them off is logged).")
    max_missing_ratio: float = Field(
        0.2, ge=0, le=1, description="Largest share of missing target values per series."
    )
    min_history: int | None = Field(
        None,
        ge=1,
        description="Fewest rows a series needs; default input_size + horizon + val + test.",
    )
    max_scaled_abs: float = Field(
        1000.0, gt=0, description="Largest |value| a scaled model input may take."
    )


class PreprocessConfig(_Section):
    """Imputation, scaling and the target transform, all fit on the training part only."""

    impute: Literal["ffill", "linear"] = Field(
        "ffill", description="How gaps are filled: forward fill or time-linear interpolation."
    )
    max_gap: int = Field(
        5, ge=0, le=10000, description="Longest run of missing steps that is filled."
    )
    scaler: Literal["robust", "standard", "minmax"] = Field(
        "robust", description="Per-series scaler fit on the training part."
    )
    target_transform: Literal["level", "diff", "log_return"] = Field(
        "diff",
        description="Model the level, the first difference or the log return of the target; "
        "forecasts are inverted to original units.",
    )


class FeaturesConfig(_Section):
    """Causal engineered inputs; every value at t uses data up to t only."""

    rolling_mean_windows: list[int] = Field(
        default_factory=lambda: [5, 20], description="Windows of rolling means of the target."
    )
    volatility_windows: list[int] = Field(
        default_factory=lambda: [20],
        description="Windows of rolling standard deviation of the target's changes.",
    )


class ModelConfig(_Section):
    """LSTM capacity, regularisation and loss: each guard is a visible field."""

    hidden_size: int = Field(
        64, ge=1, le=4096,
        description="LSTM hidden units per layer: too few underfit, too many overfit small data.",
    )
    num_layers: int = Field(
        2, ge=1, le=8,
        description="Stacked LSTM layers; more than 2-3 make gradients vanish or explode.",
    )
    dropout: float = Field(
        0.1, ge=0, lt=1, description="Dropout between LSTM layers and before the head."
    )
    loss: Literal["mse", "mae", "huber", "quantile"] = Field(
        "huber",
        description="Training loss; 'quantile' fits the `quantiles` (pinball loss) for "
        "prediction intervals, and the 0.5 quantile is the point forecast.",
    )
    huber_delta: float = Field(
        1.0, gt=0, description="Huber loss: errors beyond this (scaled units) count linearly."
    )
    quantiles: list[float] = Field(
        default_factory=lambda: [0.1, 0.5, 0.9],
        min_length=1,
        max_length=99,
        description="Quantile loss only: levels in (0, 1), increasing, 0.5 included.",
    )

    @model_validator(mode="after")
    def _check_quantiles(self) -> ModelConfig:
        q = self.quantiles
        if any(not 0 < v < 1 for v in q) or sorted(set(q)) != q or 0.5 not in q:
            raise ValueError("model.quantiles must be increasing levels in (0, 1) that include 0.5")
        return self


class TrainingConfig(_Section):
    """Optimisation and the guards against over- and under-fitting."""

    max_epochs: int = Field(50, ge=1, le=10000, description="Upper bound on epochs.")
    batch_size: int = Field(
        128, ge=1, le=65536,
        description="Windows per batch: smaller is noisier, larger is faster per window.",
    )
    learning_rate: float = Field(1e-3, gt=0, le=1, description="Initial learning rate.")
    optimizer: Literal["adam", "adamw", "rmsprop"] = Field(
        "adamw", description="Optimiser; AdamW applies weight decay decoupled from the gradient."
    )
    weight_decay: float = Field(1e-4, ge=0, le=1, description="L2 weight decay.")
    l1_penalty: float = Field(
        0.0, ge=0, le=1, description="L1 penalty on the weights (sum |w| x this); 0 is off."
    )
    gradient_clip: float = Field(1.0, ge=0, description="Max gradient norm; 0 turns clipping off.")
    scheduler: Literal["plateau", "cosine", "none"] = Field(
        "plateau",
        description="Learning-rate schedule: 'plateau' lowers it when val loss stalls, "
        "'cosine' anneals it over max_epochs.",
    )
    lr_factor: float = Field(
        0.5, gt=0, lt=1, description="Plateau: multiply the learning rate by this on a stall."
    )
    lr_patience: int | None = Field(
        None, ge=0, le=1000,
        description="Plateau: stalled epochs before lowering the rate; default patience // 2.",
    )
    min_lr: float = Field(1e-6, ge=0, description="Floor of the learning rate for both schedules.")
    patience: int = Field(
        5, ge=1, le=1000,
        description="Early stopping: epochs without val-loss improvement before stopping; "
        "the best epoch's weights are restored.",
    )
    min_delta: float = Field(
        0.0, ge=0, description="Early stopping: smallest val-loss drop that counts as better."
    )
    burn_in: int = Field(
        8, ge=0, description="Steps at the start of a window that get no loss (state warm-up)."
    )
    every_step: bool = Field(
        True,
        description="Loss on every step of a window after burn-in (many targets per pass); "
        "False puts it on the last step only.",
    )
    window_stride: int = Field(
        16, ge=1, description="Steps between consecutive training windows of a series."
    )
    max_windows_per_epoch: int | None = Field(
        None, ge=1,
        description="Cap on training windows drawn per epoch (a fresh random sample each "
        "epoch), for large panels; all windows when absent.",
    )
    max_time_minutes: float = Field(
        30, gt=0, description="Wall-time budget for training; stops cleanly when spent."
    )
    seed: int = Field(42, ge=0, description="Seed for torch, numpy and python.")
    deterministic: bool = Field(
        False,
        description="torch deterministic algorithms: bit-for-bit repeatable fits, a little slower.",
    )


class EvaluationConfig(_Section):
    """How the model is judged: held-out tail of each series against naive baselines."""

    test_size: int = Field(
        60, ge=1, description="Steps at the end of each series held out for the test."
    )
    val_size: int = Field(
        60, ge=1, description="Steps before the test part used for early stopping."
    )
    season: int = Field(
        5, ge=1, description="Lag of the seasonal-naive baseline (e.g. 7 daily, 24 hourly)."
    )


class RegistryConfig(_Section):
    """Where model versions live and when one is promoted to champion."""

    promote: Literal["if_better", "always", "never"] = Field(
        "if_better",
        description="'if_better': only when the model beats both baselines and the champion.",
    )


class PipelineConfig(_Section):
    """Everything one training run needs; the flow's single parameter."""

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
    output_dir: str = Field("outputs", description="Folder for run outputs and the model registry.")

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
        raise ConfigError(f"--set {key}: value is not valid YAML ({exc})") from None
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
        raise ConfigError(f"config file '{p}' is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file '{p}' must hold a mapping at the top level")
    return build_config(apply_overrides(raw, overrides or []))
