"""Judging a fit on the validation period alone: its forecasts, its diagnosis, and a score that
compares fits with different preprocessing (what automatic repair chooses on).

The recorded val_loss is in the scaled units of each fit's own target transform, scaler and
loss: a 'diff' fit's val_loss cannot be compared with a 'level' fit's, nor huber with mse. The
score here is in original units instead: on each series the model's validation MAE over the
naive forecast's MAE on the same points, then the geometric mean over series (each series
counts once, whatever its scale; on one series it orders fits exactly as their MAE does). It is
computed on the validation points every compared fit forecast: a longer input window or a
feature's warm-up can drop early origins, and a score on fewer points is not comparable.

Nothing here reads the test part: forecasts are made from validation origins, whose windows and
targets end before the test part begins, and the data statistics lose their test moments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.core import FitResult
from lstmflow.fit.evaluate import forecast_frame, score

SCORE = "val_rel_mae"  # the name of the choice score in summary.json
SCORE_TEXT = ("validation MAE over naive's (original units, geometric mean over series, on the "
              "validation points every attempt forecast)")
KEY = ["series_id", "origin", "step"]  # one scored validation point


def validation_points(fit: FitResult) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metrics of model, naive and seasonal naive on the fit's validation origins (the core
    forecast them with the model alone when it fitted the blend), and the scored points
    (KEY, actual, model, naive) in original units."""
    fcs, h = fit.val_forecasts.series, fit.cfg.forecast.horizon
    frame = forecast_frame(fcs)
    if frame.empty:
        return score(fcs, h), pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])
    cols = ["actual", "model", "naive", "seasonal_naive"]
    scored = np.isfinite(frame[cols].to_numpy(dtype="float64")).all(axis=1)  # evaluate's `ok`
    return score(fcs, h), frame.loc[scored, [*KEY, "actual", "model", "naive"]]


def compare(points: Mapping[int, pd.DataFrame], among: list[int] | None = None
            ) -> dict[int, dict[str, Any]]:
    """Per attempt: SCORE, pooled MAE and the point count, on the validation points every
    attempt in `among` (default: all) scored; an attempt outside `among` (one that is not
    usable) is scored on those of its own points, an attempt with none gets None."""
    among = list(points) if among is None else among
    common = None
    for k in among:
        keys = points[k][KEY].drop_duplicates()
        common = keys if common is None else common.merge(keys, on=KEY)
    out: dict[int, dict[str, Any]] = {}
    for k, p in points.items():
        p = p if common is None else p.merge(common, on=KEY)
        out[k] = {SCORE: _rel_mae(p), "val_mae": float((p["model"] - p["actual"]).abs().mean())
                  if len(p) else None, "val_points": len(p)}
    return out


def _rel_mae(p: pd.DataFrame) -> float | None:
    """Geometric mean over series of MAE(model) / MAE(naive); series where naive is exact are
    left out (their ratio is undefined)."""
    err = p.assign(model=(p["model"] - p["actual"]).abs(), naive=(p["naive"] - p["actual"]).abs())
    mae = err.groupby("series_id", sort=False, observed=True)[["model", "naive"]].mean()
    mae = mae[mae["naive"] > 0]
    if mae.empty:
        return None
    logs = np.log(np.maximum(mae["model"] / mae["naive"], 1e-12))
    value = float(np.exp(logs.mean()))
    return value if math.isfinite(value) else None
