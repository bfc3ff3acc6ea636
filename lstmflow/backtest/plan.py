"""Walk-forward folds: which rows of each series every fold keeps (plain pandas, no Prefect).

Fold k of K (0: the oldest) ends (K - 1 - k) x step rows before the end of each series and
keeps the rows up to there: its training and validation rows, then its `test_size` test rows.
The newest fold tests on the same rows as a training run. A fold is handed only its own rows,
so nothing after its test window can reach its imputation, scaling, features, fit or scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from lstmflow.config import ConfigError, PipelineConfig
from lstmflow.data.schema import SERIES, TIME, DataError, stamp

NEED = "input_size + horizon + val_size + test_size + (backtest.folds - 1) x step"


@dataclass(frozen=True)
class Fold:
    """One cut-off: per series, the rows [start, end) the fold keeps."""

    index: int  # 0: the oldest cut-off
    rows: dict[str, tuple[int, int]]


def fold_step(cfg: PipelineConfig) -> int:
    """Steps between consecutive cut-offs (default: the test size, so tests do not overlap)."""
    return cfg.backtest.step or cfg.evaluation.test_size


def backtest_rows(cfg: PipelineConfig) -> int:
    """Fewest rows a series needs to take part in every fold."""
    return cfg.min_history() + (cfg.backtest.folds - 1) * fold_step(cfg)


def plan_folds(frame: pd.DataFrame, cfg: PipelineConfig) -> list[Fold]:
    """The K folds over the canonical frame, oldest first; every series must have
    `backtest_rows(cfg)` rows (drop or refuse shorter ones first)."""
    b, step, need = cfg.backtest, fold_step(cfg), cfg.min_history()
    if b.window == "sliding" and b.window_size is not None and b.window_size < need:
        raise ConfigError(
            f"config key 'backtest.window_size': {b.window_size} rows is fewer than one fold "
            f"needs (input_size + horizon + val_size + test_size = {need})")
    lengths = {str(s): int(n) for s, n in frame.groupby(SERIES, sort=True).size().items()}
    short = {s: n for s, n in lengths.items() if n < backtest_rows(cfg)}
    if short or not lengths:
        detail = ", ".join(f"'{s}' has {n}" for s, n in list(short.items())[:5]) or "no series"
        raise DataError(f"backtest: series too short for {NEED} = {backtest_rows(cfg)} rows "
                        f"({detail})")
    folds = []
    for k in range(b.folds):
        back = (b.folds - 1 - k) * step
        rows = {}
        for sid, n in lengths.items():
            end = n - back
            size = b.window_size or n - (b.folds - 1) * step  # default: the oldest fold's rows
            rows[sid] = (max(0, end - size) if b.window == "sliding" else 0, end)
        folds.append(Fold(k, rows))
    return folds


def fold_frame(frame: pd.DataFrame, fold: Fold) -> pd.DataFrame:
    """The fold's rows of the canonical frame (sorted by series, then time), nothing later."""
    pos = frame.groupby(SERIES, sort=False).cumcount().to_numpy()
    sid = frame[SERIES].astype(str)
    start = sid.map({s: r[0] for s, r in fold.rows.items()}).to_numpy(dtype="float64")
    end = sid.map({s: r[1] for s, r in fold.rows.items()}).to_numpy(dtype="float64")
    return frame[(pos >= start) & (pos < end)].reset_index(drop=True)  # NaN: series left out


def fold_dates(frame: pd.DataFrame, test_size: int) -> dict[str, Any]:
    """Cut-off (the last row the model may know) and test window of a fold's frame, over its
    series: the latest cut-off, the earliest when series end on different dates."""
    times = frame.groupby(SERIES, sort=False)[TIME]
    cut = times.nth(-(test_size + 1))
    out = {"cutoff": stamp(cut.max()), "test_start": stamp(times.nth(-test_size).min()),
           "test_end": stamp(times.last().max())}
    if cut.min() != cut.max():
        out["cutoff_earliest"] = stamp(cut.min())
    return out
