"""Per-horizon-step blend of the model with the naive and seasonal-naive forecasts.

The weights are fitted on the VALIDATION split only (never test) by the core's fit
(lstmflow.core), kept in the fitted state it returns (`state["blend"]`) and applied wherever the
model's forecasts are turned into levels (lstmflow.fit.evaluate.model_levels: evaluation,
champion re-scoring, predict), so where the random walk or last season is already the best
forecast the pipeline falls back toward it instead of adding noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from typing import Any

import numpy as np

PARTS = ("model", "naive", "seasonal_naive")


def simplex_grid(step: float) -> np.ndarray:
    """All weight triples on the simplex with spacing `step`, model-only first: [K, 3]."""
    n = round(1 / step)
    rows = [(n - a - b, a, b) for a, b in product(range(n + 1), repeat=2) if a + b <= n]
    return np.array(sorted(rows, key=lambda r: -r[0]), dtype=float) / n  # [K, 3]


def block_se(d: np.ndarray, block: int) -> float:
    """Standard error of mean(d) from the means of contiguous blocks of `block` points: the
    errors of neighbouring forecast origins are correlated, so single points overstate the
    evidence. At least 5 blocks (shorter blocks when there are few points); inf below 2 points."""
    block = max(1, min(block, len(d) // 5))
    nb = len(d) // block
    if nb < 2:
        return float("inf")
    means = d[: nb * block].reshape(nb, block).mean(axis=1)  # [nb]
    return float(means.std(ddof=1) / np.sqrt(nb))


def choose_weights(err: np.ndarray, grid: np.ndarray, block: int, tolerance_se: float) -> int:
    """Row of `grid` to use from the absolute errors `err` [K, n] of every grid row: the
    one-standard-error rule along the path of shrinkage toward the baselines. Of the rows whose
    MAE is within `tolerance_se` standard errors of the lowest, the one with the least weight on
    the model (then the lowest MAE): a gain of the model that validation cannot tell from noise
    is not taken."""
    mae = err.mean(axis=1)  # [K]
    best = int(np.argmin(mae))
    tied = np.round(mae / max(float(mae.max()), 1e-300), 9)  # equal parts (season 1) tie
    for cand in np.lexsort((grid[:, 2], tied, grid[:, 0])):  # least model weight, lowest MAE
        cand = int(cand)
        if cand == best or mae[cand] - mae[best] <= tolerance_se * block_se(
                err[cand] - err[best], block):
            return cand
    return best


def fit_blend(fcs: Sequence, horizon: int, season: int, step: float = 0.1,
              tolerance_se: float = 1.0) -> dict[str, Any] | None:
    """Weights [H, 3] over (model, naive, seasonal_naive) per step, from validation MAE.

    `fcs`: evaluate.SeriesForecast of the validation origins. Each step takes the weights with
    the least model weight whose MAE is within `tolerance_se` standard errors of the lowest
    (`choose_weights`; 0: the lowest MAE). `val_mae_gain`: 1 - MAE / the model alone's MAE on
    validation; below 0 where a baseline the model does not beat beyond noise is served."""
    grid = simplex_grid(step)  # [K, 3]
    block = max(horizon, season)
    weights, gains = [], []
    for h in range(horizon):
        cols = [np.stack([f.preds[m][:, h][f.ok[:, h]] for m in PARTS]) for f in fcs]  # [3, n]
        actual = np.concatenate([f.actual[:, h][f.ok[:, h]] for f in fcs])  # [n]
        if not len(actual):
            weights.append([1.0, 0.0, 0.0])
            gains.append(0.0)
            continue
        parts = np.concatenate(cols, axis=1)  # [3, n]
        err = np.abs(grid @ parts - actual[None, :])  # [K, n]
        mae = err.mean(axis=1)  # [K]
        pick = choose_weights(err, grid, block, tolerance_se)
        weights.append(grid[pick].tolist())
        gains.append(float(1 - mae[pick] / mae[0]) if mae[0] > 0 else 0.0)
    return {"parts": list(PARTS), "season": season, "weights": weights,
            "val_mae_gain": gains, "tolerance_se": tolerance_se}


def apply_blend(preds: dict[str, np.ndarray], blend: dict[str, Any] | None) -> np.ndarray:
    """The blended forecast [N, H] from each part's forecast [N, H]; the model's without a blend.

    A part that is NaN (no season of history yet) at a point with zero weight does not matter;
    with weight it leaves the point NaN, as the baseline itself would be."""
    model = preds["model"]
    if not blend:
        return model
    w = np.asarray(blend["weights"], dtype=float)  # [H, 3]
    out = np.zeros_like(model, dtype=float)
    for k, part in enumerate(blend["parts"]):
        wk = w[:, k][None, :]  # [1, H]
        out += np.where(wk > 0, wk * preds[part], 0.0)
    return out


def blend_summary(blend: dict[str, Any], fcs: Sequence) -> dict[str, Any]:
    """What the report shows: the weights, their validation gain, and on the scored points the
    MAE of the blended forecast next to the model alone (`model_alone`, which
    `series_forecast` keeps beside the blend)."""
    err = [np.abs(f.preds["model"] - f.actual)[f.ok] for f in fcs]
    err_alone = [np.abs(f.preds["model_alone"] - f.actual)[f.ok] for f in fcs]
    mae = float(np.concatenate(err).mean()) if err else None
    mae_alone = float(np.concatenate(err_alone).mean()) if err_alone else None
    return {**blend, "mae": mae, "mae_model_alone": mae_alone}
