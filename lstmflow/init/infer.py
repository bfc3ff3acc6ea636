"""Infer a config from the data: frequency, season, horizon, window and split sizes (plain functions).

Every choice is a rule on the data, stated in the note `lstmflow init` prints next to it:
  frequency  the most common step between timestamps (lstmflow's own ingestion decides it)
  season     the shortest calendar cycle of the frequency (a day, a week, a year) whose lag
             autocorrelation of the first differences is >= SEASON_ACF; none (1) otherwise
  horizon    one season (or one calendar cycle when no season is found), unless given
  input      max(64, 4 x horizon, 2 x season) steps, at most 512 and a quarter of the training rows
  val/test   10% of the median series each, at least 2 x horizon (shorter series are left
             out by data.short_series: drop, with a warning in every run); then checked on
             the data and widened when a gap leaves no origin to score (lstmflow/init/origins.py)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.data.schema import SERIES, TARGET, DataError

SEASON_ACF = 0.2  # lag autocorrelation of the differenced target that counts as a season
SPLIT_SHARE = 0.1  # validation and test parts, each, as a share of the shortest series
INPUT_RANGE = (64, 512)
MIN_TRAIN_WINDOWS = 50  # a series must leave at least this many training windows


@dataclass
class Inference:
    """The config as a plain dict, the reason for each inferred key, and what stayed open."""

    raw: dict[str, Any]
    why: dict[str, str] = field(default_factory=dict)  # dotted key -> reason
    notes: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)


def calendar_cycles(freq: str) -> list[tuple[int, str]]:
    """Seasonal periods the frequency suggests, shortest first: (steps, name)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick) and offset.name != "D":  # hours, minutes, seconds
        return _sub_daily_cycles(pd.Timedelta(offset))
    name = offset.name.upper()
    if name.startswith("B"):
        return [(5, "week"), (260, "year")]
    if name.startswith("W"):
        return [(52, "year")]
    if name.startswith(("M", "SM")):
        return [(12, "year")]
    if name.startswith(("Q", "BQ")):
        return [(4, "year")]
    if name.startswith(("Y", "A", "BY")):
        return []
    return [(7, "week"), (365, "year")] if name == "D" else []


def _sub_daily_cycles(step: pd.Timedelta) -> list[tuple[int, str]]:
    """A day, a week and a year in steps of `step`, where they are whole numbers of steps."""
    out = []
    for length, what in ((pd.Timedelta(days=1), "day"), (pd.Timedelta(days=7), "week"),
                         (pd.Timedelta(days=365), "year")):
        k = length / step
        if k >= 2 and float(k).is_integer():
            out.append((int(k), what))
    return out


def lag_acf(x: np.ndarray, lag: int) -> float:
    """Autocorrelation at `lag` of a series with gaps (pairs with a NaN are skipped), after
    clipping to the 0.5-99.5% quantiles: a handful of sensor errors (0 K in a temperature
    series) would otherwise make every lag look uncorrelated."""
    if lag >= len(x) - 2 or not np.isfinite(x).any():
        return float("nan")
    lo, hi = np.nanquantile(x, [0.005, 0.995])
    x = np.clip(x, lo, hi)
    a, b = x[:-lag], x[lag:]
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10:
        return float("nan")
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else float("nan")


def choose_season(frame: pd.DataFrame, freq: str, train_share: float) -> tuple[int, str]:
    """The shortest calendar cycle whose differenced autocorrelation is >= SEASON_ACF."""
    cycles = calendar_cycles(freq)
    if not cycles:
        return 1, f"'{freq}' has no shorter calendar cycle: no season"
    scores = []
    for k, what in cycles:
        acfs = []
        for _, g in list(frame.groupby(SERIES, sort=True))[:20]:
            y = g[TARGET].to_numpy(dtype="float64")
            y = y[: int(len(y) * train_share)]  # the training part only
            acfs.append(lag_acf(np.diff(y), k))
        acf = float(np.nanmean(acfs)) if np.isfinite(acfs).any() else float("nan")
        scores.append(f"{what} ({k} steps): {acf:.2f}")
        if np.isfinite(acf) and acf >= SEASON_ACF:
            return k, (f"autocorrelation of the differenced target at one {what} is {acf:.2f} "
                       f">= {SEASON_ACF}")
    return 1, (f"no calendar cycle shows in the differenced target's autocorrelation "
               f"({'; '.join(scores)}; all < {SEASON_ACF}): seasonal naive = naive")


def choose_sizes(lengths: list[int], horizon: int, season: int) -> tuple[dict[str, int], list[str]]:
    """input_size, val_size and test_size for the median series, with the reasons."""
    n = int(np.median(lengths))
    hold = max(round(SPLIT_SHARE * n), 2 * horizon)
    train = n - 2 * hold
    want = max(INPUT_RANGE[0], 4 * horizon, 2 * season)
    input_size = int(min(want, INPUT_RANGE[1], train // 4))
    if input_size < 2 or train - input_size - horizon < MIN_TRAIN_WINDOWS:
        raise DataError(
            f"the median series has {n} rows: too short for a horizon of {horizon} with "
            f"validation and test parts of {hold} rows each and a training part of at least "
            f"input_size + horizon + {MIN_TRAIN_WINDOWS} rows; give a shorter --horizon or more data"
        )
    why = [f"{n} rows in the median series: validation and test {hold} rows each "
           f"(max({SPLIT_SHARE:.0%}, 2 x horizon))",
           f"input_size {input_size}: max({INPUT_RANGE[0]}, 4 x horizon, 2 x season) = {want}, "
           f"at most {INPUT_RANGE[1]} and a quarter of the {train} training rows"]
    return {"input_size": input_size, "val_size": hold, "test_size": hold}, why
