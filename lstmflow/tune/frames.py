"""The rows every trial fits: the whole data (one train/val split), or the K walk-forward
folds of lstmflow.backtest (each fold's own rows); the same for every trial (no torch)."""

from __future__ import annotations

import pandas as pd

from lstmflow.backtest.plan import backtest_rows, fold_frame, plan_folds
from lstmflow.config import PipelineConfig, with_overrides
from lstmflow.tune.space import input_range


def widest(cfg: PipelineConfig) -> PipelineConfig:
    """`cfg` with the longest window the search may draw and `tune.folds` folds: what decides
    which series are long enough for every trial."""
    sets = [f"forecast.input_size={input_range(cfg)[1]}"]
    if cfg.tune.folds:
        sets.append(f"backtest.folds={cfg.tune.folds}")
    return with_overrides(cfg, sets)


def tune_rows(cfg: PipelineConfig) -> tuple[int, str]:
    """Fewest rows a series needs to take part in every trial, and the formula."""
    need = "the longest input_size searched + horizon + val_size + test_size"
    if cfg.tune.folds:
        return backtest_rows(widest(cfg)), need + " + (tune.folds - 1) x backtest.step"
    return widest(cfg).min_history(), need


def tune_frames(frame: pd.DataFrame, cfg: PipelineConfig) -> list[pd.DataFrame]:
    """[the canonical frame], or its K fold frames oldest first (tune.folds = K)."""
    if not cfg.tune.folds:
        return [frame]
    return [fold_frame(frame, f) for f in plan_folds(frame, widest(cfg))]
