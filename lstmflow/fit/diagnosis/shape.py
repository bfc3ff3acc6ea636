"""How a series' test forecasts move next to the actuals and the naive forecast.

What `flat_forecast` and `lagged_copy` read, measured in original units on the points every
method covers (the scored points), so the diagnosis needs no forecasts of its own:

- `spread`: standard deviation of the model's forecasts over all origins and steps, over the
  actuals' (a forecast stuck at one value has ~0; a forecast that follows the series ~1);
- `error_corr`: correlation of the model's errors with naive's (a forecast that copies the
  last observed value makes the same errors: ~1);
- `move`: how far the model's forecasts move from the last observed value (RMS of model -
  naive), over how far the actuals move from it (RMS of actual - naive): 0 for a copy;
- with a horizon of 3 or more, along each origin's path (values minus the path's mean):
  `path_amp`, the RMS swing of the model's paths over the actuals', and
  `seasonal_path_skill`, 1 - SSE(actual path - seasonal-naive path) / SSE(actual path): above 0
  when the path one season earlier predicts the actual path's shape better than a flat line,
  i.e. the actuals repeat a cycle within the horizon.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_POINTS = 20  # fewer scored points say nothing about a spread or a correlation
MIN_PATHS = 5  # complete origin paths needed to speak of their shape
MIN_PATH_STEPS = 3  # a path of 1-2 steps has no shape to miss


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _corr(x: np.ndarray, y: np.ndarray) -> float | None:
    x, y = x - x.mean(), y - y.mean()
    den = float(np.sqrt(np.sum(x * x) * np.sum(y * y)))
    return float(np.sum(x * y) / den) if den > 0 else None


def forecast_shape(actual: np.ndarray, preds: dict[str, np.ndarray], ok: np.ndarray
                   ) -> dict[str, Any] | None:
    """The measures above for one series from [N origins, H steps] arrays in original units
    (`preds` holds model, naive and seasonal_naive, and model_alone under a blend); None when
    too few points were scored."""
    if ok.sum() < MIN_POINTS:
        return None
    # the network's own forecasts: a blend toward the baselines (lstmflow.fit.blend) would
    # hide the collapsed or copied model these measures are there to name
    model = preds.get("model_alone", preds["model"])
    a, m, n = actual[ok], model[ok], preds["naive"][ok]  # [P] scored points
    mae = float(np.mean(np.abs(a - m)))
    out: dict[str, Any] = {
        "rel_mae": {ref: _ratio(mae, float(np.mean(np.abs(a - preds[ref][ok]))))
                    for ref in ("naive", "seasonal_naive")},
        "points": int(ok.sum()), "actual_sd": float(np.std(a)), "model_sd": float(np.std(m)),
        "spread": _ratio(float(np.std(m)), float(np.std(a))),
        "error_corr": _corr(a - m, a - n), "move": _ratio(_rms(m - n), _rms(a - n)),
        "path_amp": None, "seasonal_path_skill": None,
    }
    full = ok.all(axis=1)  # [N] origins scored at every step
    if actual.shape[1] >= MIN_PATH_STEPS and full.sum() >= MIN_PATHS:
        def shape(x: np.ndarray) -> np.ndarray:  # [n, H] each path minus its own mean
            return x[full] - x[full].mean(axis=1, keepdims=True)

        da, dm, ds = shape(actual), shape(model), shape(preds["seasonal_naive"])
        sse = float(np.sum(da * da))
        out["path_amp"] = _ratio(_rms(dm), _rms(da))
        out["seasonal_path_skill"] = 1 - float(np.sum((da - ds) ** 2)) / sse if sse > 0 else None
    return out
