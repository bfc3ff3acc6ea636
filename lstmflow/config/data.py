"""Config sections `data` (where the series live, how to read them) and `forecast`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lstmflow.config.base import _Section


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
        None, description="strftime format of the timestamps; parsed as ISO 8601 when absent; "
        "'unix_s' / 'unix_ms' for numbers of seconds / milliseconds since 1970-01-01 UTC; "
        "'quarter' for '2020Q1', '2020-Q1' or 'Q1 2020' (each read as the quarter's first day); "
        "'excel' for spreadsheet serial days (43861 is 2020-01-31, fractions are the time)."
    )
    time_of_day_column: str | None = Field(
        None, description="Column holding the time of day when timestamp_column holds only "
        "dates (loggers that write 'Date' and 'Time' apart): each row's '<date> <time>' is "
        "parsed, so timestamp_format describes both (e.g. '%d/%m/%Y %H:%M:%S')."
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
        [], description="Extra numeric input columns, observed up to time t."
    )
    known_covariates: list[str] = Field(
        [], description="Numeric columns known in advance (a promotion plan, a game day, a "
        "weather forecast): read like covariates, and their values over the forecast horizon "
        "are fed to the model too. To forecast, the file must hold the next `horizon` rows "
        "of every series with these columns filled (the target left empty).",
    )
    duplicates: Literal["error", "first", "last", "mean"] = Field(
        "error",
        description="Rows of one (series, timestamp) with different values: 'error' refuses "
        "the file (nothing tells which is right); 'first' or 'last' keeps that row of the file, "
        "'mean' averages their values. Counted in the ingest report either way; identical rows "
        "are always dropped.",
    )
    off_grid: Literal["drop", "round"] = Field(
        "drop",
        description="Timestamps off the series' grid (k steps from the phase most of its stamps "
        "share): 'drop' the "
        "rows (gate 1's off_grid check counts them); 'round' moves each to the nearest grid "
        "step, keeping the closest row where two land on one step (sensor clocks that drift: "
        "a CGM's 5-minute readings at :51, :56, :00). 'round' needs a fixed step ('5min', 'h', "
        "'D'), not a calendar one ('MS', 'B', 'W').",
    )
    freq: str | None = Field(
        None, description="Pandas frequency alias (e.g. 'D', 'B', 'h'); inferred when absent."
    )
    na_values: list[str] = Field(
        ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "."],
        description="Tokens read as missing values.",
    )
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV delimiter.")
    decimal: str = Field(".", min_length=1, max_length=1, description="CSV decimal mark.")
    skip_rows: int = Field(
        0, ge=0, le=10_000,
        description="CSV lines before the header row (a title, a source note) to skip.",
    )
    thousands: str | None = Field(
        None, min_length=1, max_length=1,
        description="CSV thousands separator, as in '4,742.83' (',') or '4.742,83' ('.'); "
        "numbers are read without one when absent.",
    )
    series: list[str] | None = Field(
        None, description="Only these series (default: all in the file)."
    )
    short_series: Literal["drop", "fail"] = Field(
        "drop",
        description="A series too short for input_size + horizon + val + test: 'drop' leaves it "
        "out with a warning in the report, 'fail' refuses the run.",
    )

    @property
    def value_columns(self) -> list[str]:
        """Every covariate read from the file: the past-only ones, then the known-ahead ones
        not listed among them (a known covariate is also an input at its own time)."""
        return [*self.covariates, *(c for c in self.known_covariates if c not in self.covariates)]

    @model_validator(mode="after")
    def _check_columns(self) -> DataConfig:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"data.thousands '{self.thousands}' is also data.decimal: a "
                             "number could not be read")
        if self.layout == "wide" and (self.series_column or self.covariates
                                      or self.known_covariates):
            raise ValueError("data.layout 'wide' takes no series_column and no covariates")
        for c in self.known_covariates:
            if c in (self.timestamp_column, self.target_column, self.series_column):
                raise ValueError(f"data.known_covariates: '{c}' is the timestamp, target or "
                                 "series column, not a covariate")
        if len(set(self.known_covariates)) != len(self.known_covariates):
            raise ValueError(f"data.known_covariates repeats a column: {self.known_covariates}")
        if self.time_of_day_column and self.time_of_day_column in (
                self.timestamp_column, self.target_column, self.series_column,
                *self.value_columns, *(self.wide_columns or [])):
            raise ValueError(f"data.time_of_day_column '{self.time_of_day_column}' is also "
                             "used as another column")
        return self


class ForecastConfig(_Section):
    """What is forecast: how far ahead, from how much history."""

    horizon: int = Field(5, ge=1, le=1000, description="Steps forecast at once.")
    input_size: int = Field(
        64, ge=2, le=5000, description="Steps of history the model reads (window length)."
    )
    intervals: list[float] = Field(
        [0.8, 0.95],
        description="Nominal coverage of the prediction intervals every forecast carries "
        "(split conformal per horizon step, calibrated on the validation period's errors in "
        "original units, scaled per series by its in-sample seasonal-naive MAE); [] for point "
        "forecasts only. Each level in (0, 1); forecasts.parquet gets lower_80/upper_80 etc.",
    )

    calibration: Literal["validation", "backtest"] = Field(
        "validation",
        description="What the intervals are calibrated on: the model's errors on the validation "
        "period, or 'backtest': the out-of-sample test errors of every fold of the newest "
        "completed `lstmflow backtest` of this config (more scores, better tails; run it "
        "first). Without such a backtest the run says so and uses validation.",
    )

    @model_validator(mode="after")
    def _check_intervals(self) -> ForecastConfig:
        levels = self.intervals
        if any(not 0 < q < 1 for q in levels) or len(set(levels)) != len(levels):
            raise ValueError("forecast.intervals must be distinct levels in (0, 1), e.g. "
                             "[0.8, 0.95]")
        if sorted(levels) != list(levels):
            self.__dict__["intervals"] = sorted(levels)  # one order everywhere (no re-validation)
        return self
