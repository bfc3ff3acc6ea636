"""Served forecasts scored as the actuals arrive (plain functions): every forecast file `predict`
wrote, joined with the actuals now in the data, scored against naive and seasonal naive on the
same points, and the champion's live error set beside the error it had at promotion.

A served forecast row is (prediction, series, timestamp); its origin is the series' last
timestamp before the prediction's first forecast timestamp, its step the row's rank within the
prediction. Naive is the last observed value at the origin; seasonal naive the value one season
(whole seasons back, as the evaluation's) before the target, never after the origin. Only points
whose actual has arrived and that every method covers are scored.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.data.schema import SERIES, TARGET, TIME
from lstmflow.fit.scores import mase_scale, point_errors, relative_mae
from lstmflow.records.monitor import MonitorRecord, VersionLive
from lstmflow.serve.predict import FORECASTS, PREDICTION
from lstmflow.store.archive import fetch_new
from lstmflow.store.location import local_dir, registry_shown
from lstmflow.store.shared import open_registry

METHODS = ("model", "naive", "seasonal_naive")


def served_forecasts(output_dir: str | Path, name: str) -> pd.DataFrame:
    """Every completed prediction's forecasts of registry `name`, with its prediction id."""
    parts = []
    root = local_dir(output_dir) / "predictions" / name
    for record in sorted(root.glob(f"*/{PREDICTION}")) if root.is_dir() else []:
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
            out = Path(info["out"])  # where it was written; from a store: beside the record
            table = pd.read_parquet(out if out.is_file() else record.parent / FORECASTS)
        except (OSError, ValueError, KeyError):
            continue  # a prediction whose file is gone or unreadable scores nothing
        parts.append(table.assign(prediction_id=record.parent.name))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def ns(values: pd.Series) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC for zone-aware ones)."""
    index = pd.DatetimeIndex(values)
    return (index.tz_convert(None) if index.tz is not None else index).asi8


def live_points(served: pd.DataFrame, actuals: pd.DataFrame, season: int) -> pd.DataFrame:
    """The served rows whose actual arrived, with origin, step, actual, naive, seasonal naive
    and the series' MASE scale (its seasonal-naive MAE before its first origin)."""
    out = []
    groups = {str(s): g.sort_values(TIME) for s, g in actuals.groupby(SERIES, sort=False)}
    for (pid, sid), rows in served.groupby(["prediction_id", "series_id"], sort=False):
        series = groups.get(str(sid))
        if series is None:
            continue
        times = ns(series[TIME])
        y = series[TARGET].to_numpy(dtype="float64")
        rows = rows.sort_values("timestamp")
        origin = int(np.searchsorted(times, ns(rows["timestamp"])[0])) - 1  # the row before
        if origin < 0:
            continue
        out.append(_points(rows, times, y, origin, season).assign(
            prediction_id=pid, series_id=str(sid), origin=series[TIME].iloc[origin],
            scale=mase_scale(y, origin + 1, season)[0]))
    if not out:
        return pd.DataFrame()
    points = pd.concat(out, ignore_index=True)
    ok = np.isfinite(points[["actual", "forecast", "naive", "seasonal_naive"]]
                     .to_numpy(dtype="float64")).all(axis=1)
    return points[ok].reset_index(drop=True)


def _points(rows: pd.DataFrame, times: np.ndarray, y: np.ndarray, origin: int,
            season: int) -> pd.DataFrame:
    """One prediction of one series: each row's step, actual and baselines."""
    steps = np.arange(1, len(rows) + 1)
    stamps = ns(rows["timestamp"])
    pos = np.searchsorted(times, stamps)  # where each target sits
    found = (pos < len(times)) & (times[np.minimum(pos, len(times) - 1)] == stamps)
    actual = np.where(found, y[np.minimum(pos, len(y) - 1)], np.nan)
    seen = np.flatnonzero(np.isfinite(y[: origin + 1]))
    naive = y[seen[-1]] if seen.size else np.nan
    back = season * np.ceil(steps / season).astype(int)  # whole seasons, never past the origin
    idx = origin + steps - back
    snaive = np.where(idx >= 0, y[np.clip(idx, 0, None)], np.nan)
    return rows.assign(step=steps, actual=actual, naive=naive, seasonal_naive=snaive)


def score_points(points: pd.DataFrame) -> dict[str, Any]:
    """Live MAE, RMSE, sMAPE, MASE of the served forecast and both baselines on the same points:
    overall (with the relative MAEs, geometric mean over series), per series, per horizon step,
    and each interval's coverage."""
    if points.empty:
        return {"overall": {}, "per_series": {}, "per_horizon": {}, "coverage": {}}
    preds = {"model": "forecast", "naive": "naive", "seasonal_naive": "seasonal_naive"}

    def errors(p: pd.DataFrame) -> dict[str, dict]:
        return {m: point_errors(p["actual"].to_numpy(), p[c].to_numpy(), p["scale"].to_numpy())
                for m, c in preds.items()}

    per_series = {str(s): errors(p) for s, p in points.groupby("series_id", sort=True)}
    overall = errors(points)
    overall["model"]["rel_mae"] = relative_mae(per_series, "model", "naive")
    overall["model"]["rel_mae_vs_seasonal_naive"] = relative_mae(per_series, "model",
                                                                 "seasonal_naive")
    for v in per_series.values():
        v["model"]["rel_mae"] = v["model"]["mae"] / v["naive"]["mae"] \
            if v["naive"]["mae"] > 0 else None
    steps = sorted(points["step"].unique())
    per_horizon = {m: [errors(points[points["step"] == h])[m] for h in steps] for m in METHODS}
    return {"overall": overall, "per_series": per_series, "per_horizon": per_horizon,
            "coverage": coverage(points)}


def coverage(points: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per served interval level: nominal, live coverage and mean width."""
    out = {}
    for col in (c for c in points.columns if c.startswith("lower_")):
        name = col.removeprefix("lower_")
        band = points.dropna(subset=[col, f"upper_{name}"])
        if band.empty:
            continue
        inside = (band["actual"] >= band[col]) & (band["actual"] <= band[f"upper_{name}"])
        out[name] = {"nominal": float(name) / 100, "coverage": float(inside.mean()),
                     "width": float((band[f"upper_{name}"] - band[col]).mean()),
                     "points": len(band)}
    return out


def degradation(live: float | None, promoted: float | None, points: int, min_points: int,
                tolerance: float) -> str | None:
    """Why the champion is degraded, or None: over at least `min_points` served points, its
    live MAE over naive's is worse than naive's, or worse than at promotion by more than
    `tolerance` (a share)."""
    if live is None or points < min_points or not math.isfinite(live):
        return None
    if live >= 1:
        return (f"its live MAE is {live:.4g}x naive's over {points} served points: no better than "
                "the random walk")
    if promoted is not None and live > promoted * (1 + tolerance):
        return (f"its live MAE over naive's is {live:.4g} over {points} served points, "
                f"{live / promoted - 1:.0%} worse than the {promoted:.4g} it had at promotion "
                f"(monitor.tolerance {tolerance:.0%})")
    return None


def check(cfg: Any, actuals: pd.DataFrame, fingerprint: str | None = None) -> MonitorRecord:
    """Monitor registry `cfg.name`: every served forecast with the actuals in `actuals` (the
    canonical frame), the champion's live figures beside those it had at promotion, degraded or
    not (cfg.monitor)."""
    from lstmflow.serve.registry import champion, load_version, version_dir

    season = cfg.evaluation.season
    fetch_new(cfg.output_dir, f"predictions/{cfg.name}", cfg.storage_options)  # any machine's
    served = served_forecasts(cfg.output_dir, cfg.name)
    record = MonitorRecord(status="completed", name=cfg.name, checked_at=now(),
                           data_fingerprint=fingerprint,
                           predictions_read=int(served["prediction_id"].nunique())
                           if not served.empty else 0)
    points = live_points(served, actuals, season) if not served.empty else pd.DataFrame()
    for version, p in points.groupby("model_version", sort=True) if not points.empty else ():
        o = score_points(p)["overall"]
        record.versions[str(version)] = VersionLive(
            points=len(p), predictions=int(p["prediction_id"].nunique()),
            rel_mae=o["model"].get("rel_mae"),
            rel_mae_vs_seasonal_naive=o["model"].get("rel_mae_vs_seasonal_naive"))
    root = open_registry(cfg.output_dir, cfg.name, cfg.storage_options, only_champion=True)
    pointer = champion(root)
    if pointer is None:
        record.warnings.append(f"registry '{registry_shown(cfg.output_dir, cfg.name)}' has no "
                               "champion: nothing to judge")
        return record
    record.champion = pointer["version"]
    mine = points[points["model_version"] == record.champion] if not points.empty else points
    record.points = len(mine)
    record.live = score_points(mine)
    model = (load_version(version_dir(root, record.champion)).metrics.get("overall") or {}) \
        .get("model") or {}
    record.at_promotion = {k: model.get(k) for k in ("mae", "rel_mae",
                                                     "rel_mae_vs_seasonal_naive", "points")}
    live = (record.live.get("overall") or {}).get("model", {}).get("rel_mae")
    why = degradation(live, model.get("rel_mae"), record.points, cfg.monitor.min_points,
                      cfg.monitor.tolerance)
    record.update(degraded=why is not None, degraded_reason=why)
    return record


def now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def monitor_dir(output_dir: str | Path, name: str) -> Path:
    return local_dir(output_dir) / "monitor" / name


def keep(record: MonitorRecord, output_dir: str | Path) -> Path:
    """monitor.json (the latest, durable) and a line in history.jsonl (live error over time)."""
    from lstmflow.durable import write_text

    folder = monitor_dir(output_dir, record.name)
    path = record.write(folder / "monitor.json")
    overall = (record.live.get("overall") or {}).get("model") or {}
    line = {"checked_at": record.checked_at, "champion": record.champion,
            "points": record.points, "rel_mae": overall.get("rel_mae"),
            "at_promotion": record.at_promotion.get("rel_mae"), "degraded": record.degraded}
    history = folder / "history.jsonl"
    before = history.read_text(encoding="utf-8") if history.is_file() else ""
    write_text(history, before + json.dumps(line) + "\n")
    return path
