"""The next horizon of every series from its last row, with a saved model (what predict
serves): the fitted state applied, never refitted; levels as evaluation scores them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lstmflow.core.result import Fitted
from lstmflow.data.known import future_rows
from lstmflow.data.prepare import prepare
from lstmflow.data.schema import SERIES, DataError
from lstmflow.data.split import Bounds
from lstmflow.fit.evaluate import model_levels


def forecast_next(fitted: Fitted, frame: pd.DataFrame, future: pd.DataFrame | None = None
                  ) -> tuple[pd.DataFrame, list[str]]:
    """`series_id, timestamp, forecast[, lower, upper][, lower_80, upper_80, ...]`, one H-step
    forecast per series (the calibrated intervals by level; lower/upper: the network's own
    quantile band under the quantile loss), and a warning per series that cannot be forecast
    (DataError when none can)."""
    import torch

    cfg = fitted.cfg
    n = frame.groupby(SERIES, sort=True).size()
    bounds = {str(s): Bounds(int(k), int(k), int(k)) for s, k in n.items()}
    if fitted.state.get("known"):  # the next H steps' known inputs: refused when missing
        future = future_rows(frame, future, cfg, cfg.forecast.horizon)
    prepared = prepare(frame, bounds, cfg, state=fitted.state, future=future)
    L, h = cfg.forecast.input_size, cfg.forecast.horizon
    usable, windows, warnings = [], [], []
    for a in prepared.arrays:
        why = unusable(a, L)
        if why:
            warnings.append(f"series '{a.series_id}' is not forecast: {why}")
            continue
        usable.append(a)
        windows.append(a.x[len(a.z) - L:])  # [L, F]
    if not usable:
        raise DataError(f"data file '{cfg.data.path}': no series can be forecast ({warnings[0]})")
    model = fitted.model
    q = model.predict_quantiles(torch.from_numpy(np.stack(windows))).numpy()  # [S, H, Q]
    parts = []
    for i, a in enumerate(usable):
        end = np.array([len(a.z) - 1])
        qi = q[i:i + 1]  # [1, H, Q]
        lv = model_levels(a, end, qi[..., model.median_index], fitted.state, h,
                          qi if q.shape[-1] > 1 else None)
        cols: dict[str, Any] = {
            "series_id": a.series_id,
            "timestamp": pd.date_range(a.timestamps[-1], periods=h + 1, freq=cfg.data.freq)[1:],
            "forecast": lv["model"][0]}
        if "lower" in lv:  # quantile loss: the outer levels, moved with the blend's shift
            cols.update(lower=lv["lower"][0], upper=lv["upper"][0])
        for name, (lo, hi) in lv["bands"].items():  # the calibrated intervals by level
            cols.update({f"lower_{name}": lo[0], f"upper_{name}": hi[0]})
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts, ignore_index=True), warnings


def unusable(a, window: int) -> str | None:
    """Why the last row of a series is no forecast origin (None when it is one)."""
    t = len(a.z)
    if t < window:
        return f"{t} rows, the model reads {window}"
    if not np.isfinite(a.x[t - window:]).all():
        return (f"its last {window} rows hold missing inputs (a gap longer than "
                "preprocess.max_gap, or too little history for the features)")
    if (a.origin_ok is not None and not a.origin_ok[-1]) or not np.isfinite(a.level[-1]):
        return "its last value is missing"
    return None
