"""Reference intervals for bench/intervals.py, run with an interpreter that has statsforecast
(not a project dependency): on a finished run's folder, statsforecast's conformal intervals
(ConformalIntervals around AutoETS, MSTL for seasons over 12: AutoETS's search
over a season of 24 took over half an hour on 4,000 hourly rows) at the test origins the run was
scored on, scored on the same (origin, step) points.

    /tmp/sfvenv/bin/python bench/conformal_ref.py RUN_DIR OUT.json

The model is fitted once on the rows before the first test origin (the newest 4000 of them:
a reference, not a tuned competitor; gaps filled forward, as statsforecast needs a complete
series) and moved along the test period with refit=False; its conformal scores come from its
own 10 cross-validation windows before the test period.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE_ROWS = 4000
CALIBRATION_WINDOWS = 10
MAX_WINDOWS = 150  # test origins forecast (moving a fitted model along is slow for MSTL)


def main(run_dir: Path, out: Path) -> None:
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS
    from statsforecast.utils import ConformalIntervals

    cfg = json.loads((run_dir / "config.json").read_text())
    h, season = cfg["forecast"]["horizon"], cfg["evaluation"]["season"]
    test, val = cfg["evaluation"]["test_size"], cfg["evaluation"]["val_size"]
    levels = [int(v) if float(v).is_integer() else v
              for v in (round(100 * a, 6) for a in cfg["forecast"]["intervals"])]
    ours = pd.read_parquet(run_dir / "forecasts.parquet")
    data = pd.read_parquet(run_dir / "data.parquet")
    sid = ours["series_id"].iloc[0]
    one = data[data["series_id"].astype(str) == str(sid)].sort_values("timestamp")
    y = one["target"].ffill().bfill().to_numpy(dtype="float64")
    keep = len(y) - test + h - 1 + REFERENCE_ROWS  # the windows plus their fitting rows
    df = pd.DataFrame({"unique_id": str(sid), "ds": np.arange(len(y)), "y": y}).tail(keep)
    model = (AutoETS(season_length=season) if season <= 12 else
             MSTL(season_length=season, trend_forecaster=AutoETS(model="ZZN")))
    sf = StatsForecast(models=[model], freq=1, n_jobs=1)
    start = time.perf_counter()
    step = max(1, (test - h + 1) // MAX_WINDOWS)  # origins `step` apart, the last one the run's
    cv = sf.cross_validation(df=df, h=h, step_size=step, n_windows=(test - h) // step + 1,
                             refit=False, level=levels, prediction_intervals=ConformalIntervals(
                                 h=h, n_windows=CALIBRATION_WINDOWS))
    seconds = time.perf_counter() - start
    name = type(model).__name__
    pos = {t: i for i, t in enumerate(one["timestamp"])}
    ours = ours.assign(ds=ours["time"].map(pos), cutoff=ours["origin"].map(pos))
    points = ours.merge(cv, on=["ds", "cutoff"], how="inner")
    points = points[np.isfinite(points["actual"]) & np.isfinite(points["model"])]
    scale = mase_scale(one["target"].to_numpy(dtype="float64"), len(y) - val - test, season)
    result = {"model": name, "seconds": round(seconds, 1), "points": len(points),
              "origin_step": step, "levels": {}, "lstmflow": {}}
    for level in levels:
        lo = points[f"{name}-lo-{level:g}"].to_numpy()
        hi = points[f"{name}-hi-{level:g}"].to_numpy()
        actual = points["actual"].to_numpy()
        alpha = 1 - level / 100
        result["levels"][f"{level:g}"] = scores(actual, lo, hi, alpha, scale)
        ours = (points[f"lower_{level:g}"].to_numpy(), points[f"upper_{level:g}"].to_numpy())
        result["lstmflow"][f"{level:g}"] = scores(actual, *ours, alpha, scale)  # same points
    err = {k: float(np.mean(np.abs(points[c].to_numpy() - points["actual"].to_numpy())))
           for k, c in (("statsforecast", name), ("lstmflow", "model"),
                        ("seasonal_naive", "seasonal_naive"), ("naive", "naive"))}
    result["point_mae"] = err  # bench/domains.py: point forecasts on the same (origin, step)
    out.write_text(json.dumps(result, indent=2))


def scores(actual: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float,
           scale: float) -> dict[str, float]:
    """Coverage, and the mean width and interval (Winkler) score over the MASE scale."""
    score = (hi - lo) + (2 / alpha) * (np.maximum(lo - actual, 0) + np.maximum(actual - hi, 0))
    return {"coverage": float(np.mean((actual >= lo) & (actual <= hi))),
            "width_scaled": float(np.mean(hi - lo) / scale),
            "interval_score_scaled": float(np.mean(score) / scale)}


def mase_scale(y: np.ndarray, train_end: int, season: int) -> float:
    """In-sample seasonal-naive MAE of the training rows (lstmflow's MASE scale)."""
    part = y[:train_end]
    d = np.abs(part[season:] - part[:-season])
    return float(np.nanmean(d))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
