"""Chronological split per series: train rows, then validation rows, then test rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmflow.data.schema import SERIES, DataError


@dataclass(frozen=True)
class Bounds:
    """Row positions inside one series: [0, train_end) train, [train_end, val_end) val, rest test."""

    train_end: int
    val_end: int
    length: int


def split_bounds(frame: pd.DataFrame, val_size: int, test_size: int) -> dict[str, Bounds]:
    """Chronological split per series: the last `test_size` rows test, `val_size` before val."""
    out = {}
    for sid, n in frame.groupby(SERIES, sort=True).size().items():
        val_end = int(n) - test_size
        train_end = val_end - val_size
        if train_end <= 0:
            raise DataError(f"series '{sid}' has {n} rows: too few for val + test")
        out[str(sid)] = Bounds(train_end, val_end, int(n))
    return out


def split_part(frame: pd.DataFrame, bounds: dict[str, Bounds]) -> np.ndarray:
    """[N] 0 on each series' training rows, 1 on validation rows, 2 on test rows."""
    pos = frame.groupby(SERIES, sort=False).cumcount().to_numpy()
    sid = frame[SERIES].astype(str)
    train_end = sid.map({s: b.train_end for s, b in bounds.items()}).fillna(0).to_numpy()
    val_end = sid.map({s: b.val_end for s, b in bounds.items()}).fillna(0).to_numpy()
    return (pos >= train_end).astype(np.int64) + (pos >= val_end)


def train_mask(frame: pd.DataFrame, bounds: dict[str, Bounds]) -> np.ndarray:
    """[N] True on each series' training rows."""
    return split_part(frame, bounds) == 0
