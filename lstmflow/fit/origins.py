"""Scaled forecasts of a fitted model at every usable origin of a split, batched over one
stacked tensor (plain functions, no Prefect)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from lstmflow.config import PipelineConfig
from lstmflow.data.arrays import SeriesArrays


def _predict(model, arrays: Sequence[SeriesArrays], cfg: PipelineConfig, split: str, fn,
             stack=None):
    """Apply `fn` (a predict method) to every usable origin of a split, 1024 windows at a time.

    `stack`: the StackedSeries of these arrays when one exists already (the fit's), else built."""
    from models.data import StackedSeries, WindowBatches, window_ends

    L = cfg.forecast.input_size
    stack = stack if stack is not None else StackedSeries(arrays, cfg.forecast.horizon)
    ends = window_ends(stack, arrays, split, L)
    ds = WindowBatches(stack, ends, L, split, at=[L - 1])  # inputs only: the least targets
    out = [fn(ds[list(range(i, min(i + 1024, len(ds))))][0]) for i in range(0, len(ds), 1024)]
    return stack, ends, out


def predict_quantiles(model, arrays: Sequence[SeriesArrays], cfg: PipelineConfig, split: str,
                      stack=None):
    """Scaled forecasts of every level, (stack, ends, qhat [N, H, Q]); Q = 1 for point losses."""
    stack, ends, out = _predict(model, arrays, cfg, split, model.predict_quantiles, stack)
    empty = np.zeros((0, cfg.forecast.horizon, model.n_q), np.float32)
    return stack, ends, torch.cat(out).numpy() if out else empty


def predict_origins(model, arrays: Sequence[SeriesArrays], cfg: PipelineConfig, split: str,
                    stack=None):
    """Scaled point forecasts [N, H] (the median under quantile loss) for every usable origin.

    Returns (stack, ends, zhat): `ends` are global row indices into `stack`.
    """
    stack, ends, out = _predict(model, arrays, cfg, split, model.predict_last, stack)
    empty = np.zeros((0, cfg.forecast.horizon), np.float32)
    return stack, ends, torch.cat(out).numpy() if out else empty
