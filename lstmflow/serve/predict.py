"""Forecast the next `horizon` steps of every series with the verified champion.

The steps, as plain functions (flows/predict.py runs each as a task; `lstmflow predict` with no
Prefect API runs them in the same order through `run_prediction`):
  champion_for   load the champion, its files verified against its manifest
  ingest         the latest data, read with the champion's columns and grid (data.path and the
                 CSV dialect come from the given config)
  check_fit      refuse data whose grid step or series do not fit the champion's manifest
  gate           the ingested-data gate, as in training (expectations/)
  forecast       impute, features, transform and scale with the champion's fitted state (never
                 refitted), then one forecast per series from its last row, in original units
  write          Parquet `series_id, timestamp, forecast[, lower, upper], model_version`
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig, build_config
from lstmflow.data.ingest import IngestResult, ingest
from lstmflow.data.prepare import ranges_outside
from lstmflow.data.schema import SERIES, DataError
from lstmflow.durable import write_atomic, write_json
from lstmflow.serve.manifest import RegistryError
from lstmflow.serve.registry import Version, champion, load_version, version_dir
from lstmflow.store.archive import archive_said
from lstmflow.store.location import local_dir, registry_shown
from lstmflow.store.shared import open_registry

# data keys that say where and how the file is read (from the given config); the others (columns,
# covariates, layout, grid, series) say what the model was trained on (from the champion's)
READ_KEYS = ("path", "format", "timestamp_format", "timezone", "na_values", "delimiter", "decimal")
STEP_TOLERANCE = 0.1  # months are 28-31 days apart: a grid step within 10% is the same grid
PREDICTION = "prediction.json"
FORECASTS = "forecasts.parquet"


@dataclass
class Champion:
    version: Version
    cfg: PipelineConfig  # the champion's config, reading the data the given config names
    notes: list[str] = field(default_factory=list)  # given config keys the champion overrides


def prediction_dir(output_dir: str | Path, name: str, prediction_id: str) -> Path:
    return local_dir(output_dir) / "predictions" / name / prediction_id


def new_prediction_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def champion_for(cfg: PipelineConfig) -> Champion:
    """The champion of `cfg`'s registry, verified, with the config to read new data with."""
    root = open_registry(cfg.output_dir, cfg.name, cfg.storage_options, only_champion=True)
    pointer = champion(root)
    if pointer is None:
        raise RegistryError(f"registry '{registry_shown(cfg.output_dir, cfg.name)}' has no "
                            "champion to forecast with: train and promote a model first "
                            "(lstmflow train --config ...)")
    version = load_version(version_dir(root, pointer["version"]))
    raw = dict(version.config)
    given = cfg.data.model_dump(mode="json")
    data = {**raw["data"], **{k: given[k] for k in READ_KEYS}}
    data["freq"] = version.manifest["data"]["freq"]  # the champion's grid, inferred or not
    notes = [f"data.{k}: the champion's {raw['data'].get(k)!r} is used, not {given[k]!r}"
             for k in given if k not in READ_KEYS and k != "freq" and given[k] != raw["data"].get(k)]
    return Champion(version, build_config({**raw, "data": data, "output_dir": cfg.output_dir,
                                           "storage_options": cfg.storage_options}),
                    notes)


def check_fit(data: IngestResult, champ: Champion) -> list[str]:
    """Refuse data on another grid step or with series the champion never saw (DataError naming
    the difference); returns warnings for series it knows that the data lacks, or left out."""
    known = champ.version.manifest["data"]
    where, version = f"data file '{champ.cfg.data.path}'", champ.version.name
    new, old = data.report.get("step"), known.get("step")
    if new and old:
        ratio = pd.Timedelta(new) / pd.Timedelta(old)
        if abs(ratio - 1) > STEP_TOLERANCE:
            raise DataError(f"{where}: its timestamps are {new} apart, the data champion "
                            f"'{version}' was trained on were {old} apart (freq "
                            f"'{known['freq']}'); forecast with a model trained on this grid")
    series = {str(s) for s in data.frame[SERIES].unique()}
    trained, left_out = set(known["series"]), known.get("left_out") or {}
    unknown = sorted(series - trained - set(left_out))
    if unknown:
        raise DataError(f"{where}: {len(unknown)} series the champion '{version}' was not trained "
                        f"on ({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}); it "
                        "knows " + ", ".join(sorted(trained)[:10]) +
                        (", ..." if len(trained) > 10 else "") + ". Retrain to forecast them")
    warnings = [f"series '{s}' is not forecast: it was left out when champion '{version}' was "
                f"trained ({left_out[s]})" for s in sorted(series & set(left_out))]
    missing = sorted(trained - series)
    if missing:
        warnings.append(f"{len(missing)} series the champion knows are not in the data and get no "
                        f"forecast: {', '.join(missing[:10])}{', ...' if len(missing) > 10 else ''}")
    return warnings + level_warnings(data.frame, champ)


def level_warnings(frame: pd.DataFrame, champ: Champion) -> list[str]:
    """Series whose newest window's median level lies LEVEL_OUTSIDE or more training ranges
    outside the range the champion was trained on (its state's level_range): it forecasts
    levels it never saw, whatever its target transform makes of them."""
    from lstmflow.fit.diagnosis.thresholds import LEVEL_OUTSIDE

    ranges = champ.version.state.get("level_range") or {}
    window = champ.cfg.forecast.input_size
    out = []
    for sid, rows in frame.groupby(SERIES, sort=False)["target"]:
        lo_hi = ranges.get(str(sid))
        recent = rows.tail(window).dropna()
        if not lo_hi or recent.empty or lo_hi[1] <= lo_hi[0]:
            continue
        med = float(recent.median())
        far = float(ranges_outside(med, lo_hi[0], lo_hi[1]))
        if far >= LEVEL_OUTSIDE:
            out.append(f"series '{sid}': its newest {len(recent)} values (median {med:.6g}) lie "
                       f"{far:.2g} training ranges outside the range champion "
                       f"'{champ.version.name}' was trained on ({lo_hi[0]:.6g} to "
                       f"{lo_hi[1]:.6g}): it forecasts levels it never saw; retrain on recent "
                       "data")
    return out


def forecast(champ: Champion, frame: pd.DataFrame, future: pd.DataFrame | None = None
             ) -> tuple[pd.DataFrame, list[str]]:
    """One H-step forecast per series from its last row, in original units (the core's
    Forecaster.forecast: the fitted state applied, never refitted; `future`: the file's rows
    after the last observation, what inputs known ahead read). Returns the table and a
    warning per series that cannot be forecast."""
    from lstmflow.core import Fitted, Forecaster

    cfg, version = champ.cfg, champ.version
    frame = frame[frame[SERIES].astype(str).isin(version.manifest["data"]["series"])]
    if frame.empty:
        raise DataError(f"data file '{cfg.data.path}' holds none of the series champion "
                        f"'{version.name}' was trained on")
    out, warnings = Forecaster.forecast(Fitted(cfg, version.model, version.state), frame, future)
    out["model_version"] = version.name
    return out, warnings


def write_forecasts(table: pd.DataFrame, path: Path) -> Path:
    """The forecasts as Parquet, whole or absent (temp file, fsync, rename)."""
    return write_atomic(Path(path), lambda f: table.to_parquet(f, index=False), kind="forecasts")


def prediction_record(champ: Champion, data: IngestResult, table: pd.DataFrame, path: Path,
                      warnings: list[str], gate: dict[str, Any] | None) -> dict[str, Any]:
    """prediction.json: what was forecast, with which verified version, from which data."""
    return {
        "status": "completed", "model_version": champ.version.name,
        "manifest_sha256": champ.version.manifest["manifest_sha256"],
        "data": {"source": data.report.get("source"), "fingerprint": data.report["fingerprint"],
                 "rows": data.report.get("rows")},
        "series": int(table["series_id"].nunique()), "rows": len(table),
        "intervals": any(c.startswith("lower") for c in table),
        "interval_levels": [c.removeprefix("lower_") for c in table if c.startswith("lower_")],
        "out": str(path), "warnings": warnings,
        "gate": gate and {k: gate[k] for k in ("success", "evaluated")} | {
            "failed": len(gate["failed"]), "warnings": len(gate["warnings"]),
            **(gate.get("files") or {})},
        "first_rows": table.head(10).astype({"timestamp": str}).to_dict(orient="records"),
    }


def run_prediction(
    cfg: PipelineConfig, out: Path | None = None,
    gate: Callable[[pd.DataFrame, PipelineConfig, dict, Path], dict] | None = None,
) -> dict[str, Any]:
    """The whole prediction without Prefect (what `lstmflow predict` runs with no API server):
    the flow's steps in the flow's order. `gate(frame, cfg, report, folder)` runs the ingested
    gate and raises when it refuses the data (expectations.report.ingested_gate)."""
    start = time.perf_counter()
    champ = champion_for(cfg)
    data = ingest(champ.cfg.data)
    warnings = [*champ.notes, *check_fit(data, champ)]
    folder = prediction_dir(cfg.output_dir, cfg.name, new_prediction_id())
    result = None
    if gate is not None and champ.cfg.quality.enabled:
        result = gate(data.frame, champ.cfg, data.report, folder)  # raises when refused
    table, more = forecast(champ, data.frame, data.future)
    path = write_forecasts(table, out or folder / FORECASTS)
    record = prediction_record(champ, data, table, path, warnings + more, result)
    record.update(prediction_id=folder.name, folder=str(folder),
                  seconds=round(time.perf_counter() - start, 2))
    write_json(folder / PREDICTION, record)
    keep_on_store(cfg, folder, record)
    return record


def keep_on_store(cfg: PipelineConfig, folder: Path, record: dict[str, Any]) -> None:
    """A URL output_dir: the prediction's folder copied to the store (best-effort; said in the
    record's `store`), where the monitor of any machine reads what was served."""
    out = Path(record["out"])  # --out elsewhere: its copy goes beside the record, for monitors
    extra = {FORECASTS: out} if out.parent.resolve() != folder.resolve() and out.is_file() else None
    said = archive_said(cfg.output_dir, folder, cfg.storage_options, extra)
    if said:
        record["store"] = said
