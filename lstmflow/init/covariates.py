"""Which numeric columns of a user's file become covariates, and why the others do not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmflow.data.ingest import through_last


def choose_covariates(raw: pd.DataFrame, candidates: list[str], target: str,
                      max_missing: float = 0.2, series: str | None = None
                      ) -> tuple[list[str], list[str]]:
    """Numeric columns used as inputs: not mostly missing, not constant, not a copy of the
    target, not a row counter or clock (see `steady_step`)."""
    keep, notes = [], []
    y = pd.to_numeric(raw[target], errors="coerce")
    for c in candidates:
        x = pd.to_numeric(raw[c], errors="coerce").astype("float64")
        missing = float(x.isna().mean())
        step = steady_step(x, raw[series] if series else None)
        if missing > max_missing:
            notes.append(f"covariate '{c}' left out: {missing:.0%} missing (> {max_missing:.0%})")
        elif x.nunique() <= 1:
            notes.append(f"covariate '{c}' left out: constant")
        elif np.allclose(x.to_numpy(), y.to_numpy(), equal_nan=True):
            notes.append(f"covariate '{c}' left out: a copy of the target")
        elif step is not None:
            notes.append(f"covariate '{c}' left out: it only ever rises or falls, by {step:g} from "
                         "most rows to the next: a row counter or a clock (a saved index, an "
                         "epoch time), which the test period takes beyond every value seen in "
                         "training; add it to data.covariates to use it anyway")
        else:
            keep.append(c)
    if keep:
        notes.append(f"covariates: {keep} (numeric, observed up to each time step)")
    return keep, notes


STEADY_SHARE = 0.9  # of row-to-row changes equal to the commonest one: a counter, not a reading


def steady_step(x: pd.Series, keys: pd.Series | None = None) -> float | None:
    """The step of a column that moves one way only, by the same amount from at least
    STEADY_SHARE of rows to the next (within each series, in file order): a saved row index
    (pandas' 'Unnamed: 0') or a second clock (a kline's close_time). None for readings."""
    d = (x.groupby(keys, sort=False).diff() if keys is not None else x.diff()).dropna()
    if len(d) < 10 or not ((d > 0).all() or (d < 0).all()):
        return None
    mode = float(d.mode().iloc[0])
    share = float(np.isclose(d.to_numpy(), mode, rtol=1e-9, atol=0).mean())
    return mode if share >= STEADY_SHARE else None


def split_known(raw: pd.DataFrame, covariates: list[str], target: str,
                series: str | None = None) -> tuple[list[str], list[str]]:
    """The covariates known ahead: those with values in rows after each series' last observed
    target (the file already holds the forecast steps' plan). A 0/1 flag without such rows is
    not proposed (a flag may be measured, not planned) but named. Returns (known, notes)."""
    seen = pd.to_numeric(raw[target], errors="coerce").notna()
    keys = raw[series] if series else pd.Series(0, index=raw.index)
    after = ~through_last(seen, keys)  # rows past each series' last target
    known, notes = [], []
    for c in covariates:
        x = pd.to_numeric(raw[c], errors="coerce")
        ahead = int((x.notna() & after).sum())
        if ahead:
            known.append(c)
            notes.append(f"known ahead: '{c}' has values in {ahead} row(s) after the last "
                         "observed target, so its future values are fed to the model "
                         "(data.known_covariates)")
        elif set(x.dropna().unique()) <= {0.0, 1.0}:
            notes.append(f"'{c}' is a 0/1 flag read as observed up to each step: if it is "
                         "planned in advance (an event, a promotion), move it to "
                         "data.known_covariates and add the forecast steps' rows to the file")
    return known, notes
