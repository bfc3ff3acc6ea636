"""The shortest cycle a series repeats, from the autocorrelation of its training target.

A cycle of L steps shows as changes that repeat L steps later. One-step changes are a poor
witness at fine sampling (5-minute temperature: the noise of each step hides the daily cycle)
and the level a misleading one (a trend correlates every lag), so lag L is judged on the changes
over a quarter of it, `y[t] - y[t - k]` with k in (L/8, L/4]: over that span a cycle moves the
series most while noise adds only once. The cycle is the shortest lag whose correlation is a
local peak of at least CYCLE_ACF and that the correlation reached through a negative value
before it (the series went the other way, then came back: a smooth series whose changes persist
never does). A weak cycle may first clear the bar at a multiple of itself (over longer changes
the noise averages out); the same changes then tell whether a shorter lag repeats too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmflow.fit.diagnosis import thresholds as T


def change_acf(y: np.ndarray, k: int, max_lag: int) -> np.ndarray:
    """Autocorrelation at lags 0..max_lag of the k-step changes of `y`, NaN-aware (each lag
    averages the pairs where both changes are known). [max_lag + 1]"""
    d = y[k:] - y[:-k]
    ok = np.isfinite(d)
    x = np.where(ok, d - (d[ok].mean() if ok.any() else 0.0), 0.0)
    size = 1 << int(2 * len(x) - 1).bit_length()  # zero padding (no wrap-around), fast size

    def lagged(v: np.ndarray) -> np.ndarray:
        f = np.fft.rfft(v, size)
        return np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]

    # [max_lag + 1] pairs of known changes per lag
    pairs = (np.round(lagged(ok.astype("float64"))) if not ok.all()
             else len(x) - np.arange(max_lag + 1, dtype="float64"))
    cov = lagged(x) / np.where(pairs > 0, pairs, np.nan)
    # pairwise means can put a lag a hair above the variance: correlations stay within [-1, 1]
    return np.clip(cov / cov[0], -1, 1) if cov[0] > 0 else np.full(max_lag + 1, np.nan)


def shortest_cycle(level: np.ndarray) -> dict[str, Any] | None:
    """`{lag, acf, span}` of the shortest cycle in a series' training part, or None.

    Lags up to a quarter of the series (at least CYCLE_MIN_REPEATS repeats to learn from) and
    CYCLE_MAX_LAG are searched in octaves: lags [4k, 8k) on k-step changes, k = 1, 2, 4, ...
    """
    y = np.asarray(level, dtype="float64")[-T.AR_MAX_ROWS:]
    fin = np.flatnonzero(np.isfinite(y))
    if len(fin) < 4 * T.CYCLE_MIN_REPEATS:
        return None
    y = y[fin[0]: fin[-1] + 1]
    top = min(len(y) // T.CYCLE_MIN_REPEATS, T.CYCLE_MAX_LAG)
    k = 1
    while (start := 2 if k == 1 else 4 * k) <= top:
        stop = min(8 * k, top + 1)  # lags [start, stop)
        acf = change_acf(y, k, stop)  # one lag beyond, for the peak test
        lag = _first_peak(acf, start, stop)
        if lag is not None:  # the same changes may show a shorter lag repeating too
            lag = _first_peak(acf, max(2, k), lag + 1)
            return {"lag": lag, "acf": float(acf[lag]), "span": k}
        k *= 2
    return None


def _first_peak(acf: np.ndarray, start: int, stop: int) -> int | None:
    """The first lag in [start, stop) where the correlation peaks at CYCLE_ACF or more after
    having been negative at a shorter lag."""
    lags = np.arange(start, stop)
    r = acf[lags]
    dipped = np.fmin.accumulate(acf[1:stop])[lags - 2] < 0  # below 0 somewhere in [1, L)
    peak = (r >= acf[lags - 1]) & (r >= acf[lags + 1])
    hit = np.flatnonzero((r >= T.CYCLE_ACF) & peak & dipped)
    return int(lags[hit[0]]) if hit.size else None
