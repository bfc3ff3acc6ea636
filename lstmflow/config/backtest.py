"""Config section `backtest`: walk-forward folds at the end of each series."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lstmflow.config.base import _Section


class BacktestConfig(_Section):
    """Walk-forward cross-validation: K cut-offs, `step` steps apart, at the end of each series.

    Fold k keeps each series' rows up to its cut-off plus the `evaluation.test_size` rows after
    it; the newest fold tests on the same rows as a training run. Everything is refit per fold.
    """

    folds: int = Field(
        3, ge=1, le=100,
        description="Number of folds (cut-offs); each refits imputation, scaling, features and "
        "the model. A series needs input_size + horizon + val_size + test_size + "
        "(folds - 1) x step rows, or it is left out (data.short_series).",
    )
    step: int | None = Field(
        None, ge=1, le=1_000_000,
        description="Steps between consecutive cut-offs; empty: evaluation.test_size, so the "
        "folds' test windows lie side by side without overlap.",
    )
    window: Literal["expanding", "sliding"] = Field(
        "expanding",
        description="'expanding': a fold trains on all rows up to its cut-off; 'sliding': on "
        "its latest window_size rows per series (older rows drop out as the cut-off moves).",
    )
    window_size: int | None = Field(
        None, ge=2, le=100_000_000,
        description="Sliding window only: rows per series a fold keeps (train + val + test), at "
        "least input_size + horizon + val_size + test_size; empty: as many as the oldest fold "
        "has, so every fold trains on as much data as the first.",
    )
