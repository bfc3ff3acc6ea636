"""Runs of rows: maximal stretches of consecutive rows of one series that share a flag (observed
or missing). One definition for imputation (position inside a gap), features (rolling windows
restart at a run's first row) and the ingested-data gate (longest gap per series).

Rows are those of a canonical frame: each series' rows contiguous and in time order; `codes`
[N] are the series codes of `pd.factorize` on the series column.
"""

from __future__ import annotations

import numpy as np


class Segments:
    """Run layout of [N] rows: which run each row belongs to and its position in it."""

    def __init__(self, codes: np.ndarray, flag: np.ndarray) -> None:
        n = len(flag)
        self.idx = np.arange(n)
        self.flag = flag  # [N] bool
        new = np.ones(n, dtype=bool)
        new[1:] = (codes[1:] != codes[:-1]) | (flag[1:] != flag[:-1])
        self.first = np.flatnonzero(new)  # [R] first row of each run
        self.start = np.maximum.accumulate(np.where(new, self.idx, 0))  # [N] first row of the run
        self.code = np.cumsum(new) - 1  # [N] run id, increasing with the row
        self.pos = self.idx - self.start  # [N] 0 at a run's first row


def gap_position(na: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """[N] 0-based position of each missing row inside its run of missing rows; -1 if observed."""
    return np.where(na, Segments(codes, na).pos, -1)


def longest_run(flag: np.ndarray, codes: np.ndarray, n_series: int) -> tuple[np.ndarray, np.ndarray]:
    """Per series code [S]: length of its longest run of flagged rows (0 when none) and the first
    row of that run (the earliest among equals; -1 when none)."""
    seg = Segments(codes, flag)
    first = seg.first
    length = np.diff(np.append(first, len(flag)))  # [R]
    keep = flag[first]
    first, length = first[keep], length[keep]
    series = codes[first]
    best_len = np.zeros(n_series, dtype=np.int64)
    best_row = np.full(n_series, -1, dtype=np.int64)
    if len(first):
        order = np.lexsort((first, -length, series))  # by series, longest first, then earliest
        head = order[np.r_[True, series[order][1:] != series[order][:-1]]]
        best_len[series[head]], best_row[series[head]] = length[head], first[head]
    return best_len, best_row
