"""Config sections `preprocess` (imputation, scaling, target transform) and `features`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from lstmflow.config.base import _Section


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
        [5],
        description="k-step returns of the target, one input per k (the 1-step change is "
        "already the transformed target).",
    )
    return_kind: Literal["log", "simple"] = Field(
        "log", description="Returns as log(level_t / level_t-k) or level_t / level_t-k - 1."
    )
    rolling_mean_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        [5, 20],
        description="Windows of rolling means, as the gap level / mean - 1 (stationary).",
    )
    volatility_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        [20],
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
        [20],
        description="Windows of the rolling z-score (level - mean) / std; 0 on flat windows.",
    )
    ema_spans: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        [],
        description="Spans of exponential moving averages, as the gap level / EMA - 1.",
    )
    rsi_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        [],
        description="Windows of the relative strength index (Wilder smoothing, 0..100).",
    )
    macd_spans: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        [],
        description="[fast, slow, signal] EMA spans of MACD and its signal line (as a share of "
        "the slow EMA); empty for none. Price charts use [12, 26, 9].",
    )
    bollinger_windows: list[Annotated[int, Field(ge=2, le=10000)]] = Field(
        [], description="Windows of Bollinger %B (0.5 on flat windows)."
    )
    bollinger_k: float = Field(
        2.0, gt=0, le=10, description="Bollinger band width in standard deviations."
    )
    calendar: Literal["auto", "none"] | list[_CalendarPart] = Field(
        "auto",
        description="Calendar inputs as sine/cosine: 'auto' picks them by the time step "
        "(hourly: hour_of_day + day_of_week; daily: day_of_week + month; weekly/monthly: month).",
    )
    holidays_country: str | None = Field(
        None, min_length=2, max_length=3,
        description="Public holidays of this country (ISO code, e.g. 'US', 'DE', through the "
        "`holidays` package) as a 0/1 input `holiday`, known ahead: its values over the "
        "forecast horizon are fed to the model with the calendar of the forecast steps. None: "
        "no holiday input.",
    )
    holidays_subdivision: str | None = Field(
        None, min_length=1, max_length=10,
        description="The state or province whose holidays count too (e.g. 'CA' with 'US'); "
        "needs holidays_country.",
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
        if self.holidays_subdivision and not self.holidays_country:
            raise ValueError("features.holidays_subdivision needs features.holidays_country")
        if self.holidays_country:
            _check_country(self.holidays_country, self.holidays_subdivision)
        return self


def _check_country(country: str, subdivision: str | None) -> None:
    """Refuse a country or subdivision the `holidays` package does not know, naming the key."""
    try:
        import holidays
    except ImportError:  # a dependency of lstmflow: only a broken install lacks it
        raise ValueError("features.holidays_country needs the 'holidays' package "
                         "(pip install holidays)") from None
    known = holidays.list_supported_countries()
    if country not in known:
        raise ValueError(f"features.holidays_country '{country}' is not a country the holidays "
                         "package knows (ISO 3166 codes such as 'US', 'GB', 'DE')")
    if subdivision and subdivision not in known[country]:
        raise ValueError(f"features.holidays_subdivision '{subdivision}' is not a subdivision of "
                         f"'{country}' (e.g. {', '.join(known[country][:6])})")
