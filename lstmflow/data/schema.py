"""The canonical long frame's column names, the data error type, and how stamps read in messages."""

from __future__ import annotations

from typing import Any

import pandas as pd

SERIES, TIME, TARGET = "series_id", "timestamp", "target"
ORIGIN_OK = "_origin_ok"  # bool column: no input at this row was computed from a later value
# bool column: every input at this row is defined (target and covariates known after imputation,
# past the feature warm-up that follows the series start or an unfilled gap)
WARM = "_warm"
OBSERVED = "_observed"  # bool column: the target was in the data, not imputed
LEVEL = "_level"  # target in original units after imputation (origin of inverse transforms)
Z = "z"  # transformed target: the first model input and the training target


class DataError(ValueError):
    """Input data that cannot be used; the message names the file, column and rule."""


def stamp(ts: Any) -> str:
    """A timestamp as a short string for messages: the date alone at midnight."""
    if ts is None or pd.isna(ts):
        return "?"
    ts = pd.Timestamp(ts)
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()
