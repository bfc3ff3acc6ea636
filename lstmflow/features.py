"""Causal engineered features: every value at time t uses data up to t only.

Computed per series on the imputed target level, vectorised with pandas rolling windows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmflow.config import FeaturesConfig
from lstmflow.ingest import SERIES


def add_features(frame: pd.DataFrame, level_col: str, cfg: FeaturesConfig) -> tuple[pd.DataFrame, list[str]]:
    """Append rolling-mean gaps and rolling volatility of changes; returns the new column names.

    `mean_gap_w` = level - rolling mean over w steps (stationary, unlike the mean itself);
    `vol_w` = rolling standard deviation of the one-step change over w steps.
    """
    out = frame.copy()
    g = out.groupby(SERIES, sort=False)[level_col]
    names: list[str] = []
    for w in cfg.rolling_mean_windows:
        mean = g.transform(lambda s, w=w: s.rolling(w, min_periods=w).mean())
        out[f"mean_gap_{w}"] = out[level_col] - mean
        names.append(f"mean_gap_{w}")
    change = g.diff()
    gc = change.groupby(out[SERIES], sort=False)
    for w in cfg.volatility_windows:
        out[f"vol_{w}"] = gc.transform(lambda s, w=w: s.rolling(w, min_periods=w).std())
        names.append(f"vol_{w}")
    out[names] = out[names].replace([np.inf, -np.inf], np.nan)
    return out, names
