"""Inputs computed from timestamps alone: calendar parts as sine/cosine and the public-holiday
flag. Known for any step, so the same functions give the forecast steps' values (known ahead)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmflow.config import FeaturesConfig
from lstmflow.data.holidays import holiday_flags

CALENDAR_PERIOD = {"hour_of_day": 24.0, "day_of_week": 7.0, "month": 12.0}
CALENDAR_SHORT = {"hour_of_day": "hour", "day_of_week": "dow", "month": "month"}
_DAY = pd.Timedelta(days=1)
HOLIDAY = "holiday"  # the 0/1 public-holiday input (features.holidays_country)


def calendar_parts(cfg: FeaturesConfig, step: pd.Timedelta | None) -> list[str]:
    """The calendar parts to use: as configured, or chosen from the series' time step."""
    if cfg.calendar == "none":
        return []
    if isinstance(cfg.calendar, list):
        return list(cfg.calendar)
    if step is None:
        return []
    if step < _DAY:
        return ["hour_of_day", "day_of_week"]
    if step < 7 * _DAY:
        return ["day_of_week", "month"]
    if step <= 31 * _DAY:
        return ["month"]
    return []


def known_names(cfg: FeaturesConfig, known_covariates: list[str], calendar: list[str]) -> list[str]:
    """The inputs whose values over the forecast horizon the model reads (in this order): the
    known-ahead covariates, then, when there is any of them or holidays, the calendar parts
    and the holiday flag of the forecast steps. Empty: no input is known ahead."""
    if not known_covariates and not cfg.holidays_country:
        return []
    return [*known_covariates, *calendar_names(calendar),
            *([HOLIDAY] if cfg.holidays_country else [])]


def time_features(times: np.ndarray, cfg: FeaturesConfig, calendar: list[str]) -> dict[str, np.ndarray]:
    """The features computed from timestamps alone (calendar parts, holiday flag), for rows
    of the frame or for the forecast steps after it."""
    out = calendar_values(times, calendar)
    if cfg.holidays_country:
        out[HOLIDAY] = holiday_flags(times, cfg.holidays_country, cfg.holidays_subdivision)
    return out


def calendar_names(calendar: list[str]) -> list[str]:
    """Calendar columns (already in [-1, 1]: not scaled)."""
    return [f"{CALENDAR_SHORT[p]}_{f}" for p in calendar for f in ("sin", "cos")]


def calendar_values(times: np.ndarray, parts: list[str]) -> dict[str, np.ndarray]:
    """Sine/cosine of each calendar part's phase, from datetime64 [N] with integer arithmetic."""
    out = {}
    for part in parts:
        if part == "hour_of_day":
            minutes = times.astype("datetime64[m]").astype("int64")
            phase = (minutes % 1440) / 60.0  # [N] hours since midnight
        elif part == "day_of_week":
            phase = (times.astype("datetime64[D]").astype("int64") + 3) % 7  # 1970-01-01: Thursday
        else:
            phase = times.astype("datetime64[M]").astype("int64") % 12  # 0 = January
        ang = 2 * np.pi * phase / CALENDAR_PERIOD[part]  # [N]
        short = CALENDAR_SHORT[part]
        out[f"{short}_sin"], out[f"{short}_cos"] = np.sin(ang), np.cos(ang)
    return out
