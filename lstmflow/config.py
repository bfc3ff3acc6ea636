"""The one pipeline config: a pydantic model loaded from YAML, also the flow's parameter.

Every field carries a description and bounds so the Prefect UI renders it as a form, and
unknown keys or out-of-range values are refused with a message that names the field.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

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


CheckName = Literal[
    "columns", "types", "unique", "increasing", "off_grid", "missing", "gap", "finite", "bounds",
    "outliers", "jump", "history", "staleness", "constant",
    "inputs_order", "inputs_finite", "inputs_nan", "inputs_scale",
]


class ColumnBounds(_Section):
    """Allowed value range of one column (e.g. prices > 0, volume >= 0)."""

    min: float | None = Field(None, description="Smallest allowed value (none: no lower bound).")
    max: float | None = Field(None, description="Largest allowed value (none: no upper bound).")
    strict: bool = Field(False, description="Exclude the bounds themselves (e.g. price > 0).")

    @model_validator(mode="after")
    def _check_order(self) -> ColumnBounds:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        return self


class QualityConfig(_Section):
    """Thresholds of the data-quality gates (Great Expectations); each check has a severity."""

    enabled: bool = Field(True, description="Run the gates (turning them off is logged).")
    max_missing_ratio: float = Field(
        0.2, ge=0, le=1, description="Largest share of missing values per series and column."
    )
    max_gap_steps: int = Field(
        25, ge=1, description="Longest run of missing target steps per series (grid steps)."
    )
    max_off_grid_ratio: float = Field(
        0.01, ge=0, le=1,
        description="Largest share of a series' timestamps that are off the regular grid "
        "(they are dropped at ingestion).",
    )
    bounds: dict[str, ColumnBounds] = Field(
        default_factory=dict,
        description="Opt-in value ranges per column, by its name in the file, e.g. "
        "{'Adj Close': {min: 0, strict: true}}.",
    )
    max_jump_ratio: float | None = Field(
        10.0, gt=1,
        description="Largest ratio between consecutive positive values, max(x_t/x_t-1, x_t-1/x_t): "
        "10 refuses unit changes (x100) yet passes real crashes (-52% = x2.1) and 2:1 splits; "
        "none turns the check off.",
    )
    jump_columns: list[str] = Field(
        default_factory=list,
        description="Covariates (by file name) also checked for jumps; the target always is.",
    )
    outlier_window: int = Field(
        50, ge=5, le=100000,
        description="Centred rolling window (steps) of the robust outlier score |x - median| / MAD.",
    )
    outlier_threshold: float = Field(
        10.0, gt=0, description="Score (in MAD units scaled to a normal sigma) above which a value "
        "is an outlier.",
    )
    max_outlier_ratio: float = Field(
        0.01, ge=0, le=1, description="Largest share of outliers per series and column."
    )
    max_staleness: str | None = Field(
        None,
        description="Opt-in: newest observed timestamp of each series may be at most this old "
        "relative to as_of (pandas Timedelta, e.g. '3D', '36h').",
    )
    as_of: datetime | None = Field(
        None, description="Reference time of the staleness check (default: now, in data.timezone "
        "or UTC)."
    )
    min_history: int | None = Field(
        None,
        ge=1,
        description="Fewest rows a series needs; default input_size + horizon + val + test.",
    )
    max_scaled_abs: float = Field(
        1000.0, gt=0, description="Largest |value| a scaled model input may take."
    )
    severity: dict[CheckName, Literal["error", "warning"]] = Field(
        default_factory=dict,
        description="Override a check's severity: 'error' fails the run, 'warning' is reported "
        "and the run goes on (e.g. {jump: warning}).",
    )

    @model_validator(mode="after")
    def _check_staleness(self) -> QualityConfig:
        if self.max_staleness is not None:
            import pandas as pd  # here, not at the top: the CLI answers --help without pandas

            try:
                age = pd.Timedelta(self.max_staleness)
            except (ValueError, TypeError):
                raise ValueError(
                    f"max_staleness '{self.max_staleness}' is not a duration like '3D' or '36h'"
                ) from None
            if age <= pd.Timedelta(0):
                raise ValueError(f"max_staleness '{self.max_staleness}' must be positive")
        return self


class PreprocessConfig(_Section):
    """Imputation, scaling and the target transform, all fit on the training part only."""

    impute: Literal["ffill", "linear", "knn"] = Field(
        "ffill",
        description="How gaps are filled, per series: 'ffill' carries the last value (causal); "
        "'linear' interpolates in time between the values around a gap (uses the value after "
        "the gap); 'knn' takes the mean of the k training rows nearest on the covariates "
        "observed at that row (needs data.covariates).",
    )
    max_gap: int = Field(
        5,
        ge=0,
        le=10000,
        description="Longest run of missing steps that is filled; longer gaps stay missing and "
        "no window crosses them ('ffill'/'knn' fill the first max_gap steps of any gap).",
    )
    knn_neighbors: int = Field(
        5, ge=1, le=100, description="'knn' only: neighbours averaged per imputed value."
    )
    knn_max_donors: int = Field(
        2000,
        ge=10,
        le=100000,
        description="'knn' only: the newest training rows kept as neighbours per series "
        "(they are saved in the model's state.json).",
    )
    missing_indicators: bool = Field(
        False,
        description="Add a 0/1 input per imputed column (target and covariates) that marks "
        "steps whose value was missing.",
    )
    scaler: Literal["auto", "robust", "standard", "minmax"] = Field(
        "auto",
        description="Per-series, per-column scaler fit on the training part; 'auto' picks "
        "robust for heavy-tailed columns (see auto_kurtosis, auto_outlier_share), else standard.",
    )
    auto_kurtosis: float = Field(
        3.0,
        ge=0,
        le=1000,
        description="'auto': excess kurtosis above which a column counts as heavy-tailed "
        "(a normal column has 0).",
    )
    auto_outlier_share: float = Field(
        0.005,
        ge=0,
        le=1,
        description="'auto': share of training values beyond 3 IQR outside the quartiles "
        "above which a column counts as heavy-tailed.",
    )
    target_transform: Literal["level", "diff", "log_return"] = Field(
        "diff",
        description="Model the level, the first difference or the log return of the target "
        "(prices: log_return); forecasts are inverted exactly to original units.",
    )


_Window = Annotated[int, Field(ge=1, le=10000)]
_CalendarPart = Literal["hour_of_day", "day_of_week", "month"]


class FeaturesConfig(_Section):
    """Causal engineered inputs from the target level; every value at t uses data up to t only.

    On a series whose training part is not all positive, log returns and ratios fall back to
    differences (said in the report).
    """

    return_periods: list[_Window] = Field(
        default_factory=lambda: [5],
        description="k-step returns of the target, one input per k (the 1-step change is "
        "already the transformed target).",
    )
    return_kind: Literal["log", "simple"] = Field(
        "log", description="Returns as log(level_t / level_t-k) or level_t / level_t-k - 1."
    )
    rolling_mean_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        default_factory=lambda: [5, 20],
        description="Windows of rolling means, as the gap level / mean - 1 (stationary).",
    )
    volatility_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        default_factory=lambda: [20],
        description="Windows of rolling volatility: std of the 1-step log returns.",
    )
    annualize_volatility: bool = Field(
        False, description="Multiply volatility by sqrt(periods per year)."
    )
    periods_per_year: float | None = Field(
        None,
        gt=0,
        le=1e6,
        description="Steps per year for annualising; inferred from the time step when absent "
        "(252 for business days).",
    )
    zscore_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        default_factory=lambda: [20],
        description="Windows of the rolling z-score (level - mean) / std; 0 on flat windows.",
    )
    ema_spans: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        default_factory=list,
        description="Spans of exponential moving averages, as the gap level / EMA - 1.",
    )
    rsi_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        default_factory=list,
        description="Windows of the relative strength index (Wilder smoothing, 0..100).",
    )
    macd_spans: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        default_factory=list,
        description="[fast, slow, signal] EMA spans of MACD and its signal line (as a share of "
        "the slow EMA); empty for none. Price charts use [12, 26, 9].",
    )
    bollinger_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        default_factory=list, description="Windows of Bollinger %B (0.5 on flat windows)."
    )
    bollinger_k: float = Field(
        2.0, gt=0, le=10, description="Bollinger band width in standard deviations."
    )
    calendar: Literal["auto", "none"] | list[_CalendarPart] = Field(
        "auto",
        description="Calendar inputs as sine/cosine: 'auto' picks them by the time step "
        "(hourly: hour_of_day + day_of_week; daily: day_of_week + month; weekly/monthly: month).",
    )

    @model_validator(mode="after")
    def _check(self) -> FeaturesConfig:
        for name in ("return_periods", "rolling_mean_windows", "volatility_windows",
                     "zscore_windows", "ema_spans", "rsi_windows", "bollinger_windows"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"features.{name} repeats a value: {values}")
        if self.macd_spans and (
            len(self.macd_spans) != 3 or self.macd_spans[0] >= self.macd_spans[1]
        ):
            raise ValueError("features.macd_spans must be [fast, slow, signal] with fast < slow")
        if isinstance(self.calendar, list) and len(set(self.calendar)) != len(self.calendar):
            raise ValueError(f"features.calendar repeats a value: {self.calendar}")
        return self


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
