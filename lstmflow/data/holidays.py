"""Public holidays as a 0/1 input (`features.holidays_country`): a day is a holiday when the
`holidays` package lists it for the country (and subdivision); sub-daily steps take their day's
flag. Known ahead: the same function gives the flags of the forecast steps."""

from __future__ import annotations

import numpy as np


def holiday_flags(times: np.ndarray, country: str, subdivision: str | None = None) -> np.ndarray:
    """[N] datetime64 -> [N] float64: 1.0 on the country's public holidays, else 0.0."""
    import holidays

    days = np.asarray(times).astype("datetime64[D]")  # [N]
    if days.size == 0:
        return np.zeros(0)
    years = range(int(str(days.min())[:4]), int(str(days.max())[:4]) + 1)
    listed = holidays.country_holidays(country, subdiv=subdivision, years=years)
    dates = np.array(sorted(listed), dtype="datetime64[D]")  # [D]
    return np.isin(days, dates).astype("float64")
