"""Config section `quality`: thresholds and severities of the data-quality gates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from lstmflow.config.base import _Section

CheckName = Literal[
    "columns", "types", "unique", "increasing", "off_grid", "missing", "gap", "finite", "bounds",
    "outliers", "jump", "history", "staleness", "constant", "level",
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
        {},
        description="Opt-in value ranges per column, by its name in the file; each takes min, "
        "max (either may be left out) and strict (exclude the bounds). JSON, e.g. "
        '{"Adj Close": {"min": 0, "strict": true}, "Volume": {"min": 0}}; {} for none.',
        examples=[{"Adj Close": {"min": 0, "strict": True}, "Volume": {"min": 0}}],
    )
    max_jump_ratio: float | None = Field(
        10.0, gt=1,
        description="Largest ratio between consecutive positive values, max(x_t/x_t-1, x_t-1/x_t): "
        "10 refuses unit changes (x100) yet passes real crashes (-52% = x2.1) and 2:1 splits; "
        "none turns the check off.",
    )
    jump_columns: list[str] = Field(
        [],
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
    max_level_shift: float | None = Field(
        1.0, ge=0,
        description="Largest distance of the median of each series' newest input_size values "
        "outside the range of all its earlier values, in widths of that range (a warning by "
        "default: the model would read levels it never learned, whatever its target transform "
        "makes of them). 1 passes series trending to new highs and flags a x3 level jump; none "
        "turns the check off.",
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
        {},
        description="Override a check's severity: 'error' fails the run, 'warning' is reported "
        "and the run goes on. Checks: columns, types, unique, increasing, off_grid, missing, gap, "
        "finite, bounds, outliers, jump, history, staleness, constant, level, inputs_order, "
        'inputs_finite, inputs_nan, inputs_scale. JSON, e.g. {"jump": "warning", "outliers": '
        '"warning"}; {} keeps every default.',
        examples=[{"jump": "warning", "outliers": "warning"}],
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
