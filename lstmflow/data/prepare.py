"""From the canonical frame to model-ready arrays: impute > features > transform > scale.

One function so the training flow, promotion and prediction share exactly the same path: with
no `state` it fits (on the training rows only) and returns the JSON-safe state; with a saved
`state` it fits nothing and reproduces the same inputs.

State layout (state.json), version 2:
  target_transform, scaler, impute, max_gap: the preprocess choices
  inputs: model input columns in order (inputs[0] is the transformed target "z")
  features: engineered feature columns in order
  feature_state: {positive: {series: bool}, calendar: [...], periods_per_year}
  imputer: {"knn": {columns, k, series: {sid: {mean, scale, donors}}}} or {"knn": null}
  scalers: {series: {column: {kind, center, scale}}}: scaled = (x - center) / scale
  level_range: {series: [min, max]} of the observed target on the training rows (predict's
    check for levels the model never saw; absent in states written before it)
  known, lead_steps: the inputs known ahead in order, and H (absent or [] when none): each
    row's inputs are followed by their values at that row and the next H (lstmflow.data.known)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.data.arrays import SeriesArrays, to_arrays
from lstmflow.data.calendar import HOLIDAY, calendar_names, known_names
from lstmflow.data.features import add_features, feature_names, fit_feature_state, warm_rows
from lstmflow.data.impute import impute
from lstmflow.data.known import future_values, lead_block
from lstmflow.data.scale import apply_scalers, fit_scalers, scaler_arrays, transform_target
from lstmflow.data.schema import LEVEL, OBSERVED, ORIGIN_OK, SERIES, TARGET, WARM, DataError, Z
from lstmflow.data.split import Bounds

STATE_VERSION = 2
_MAX_REASONS = 50  # per-series scaler reasons listed in the report


@dataclass
class Prepared:
    arrays: list[SeriesArrays]
    inputs: list[str]  # model input columns, in order; inputs[0] is the transformed target
    state: dict[str, Any]  # JSON-safe fitted state
    report: dict[str, Any] = field(default_factory=dict)
    frame: pd.DataFrame | None = None  # scaled model-input frame (for the model-input gate)


def _check_state(state: dict[str, Any]) -> None:
    """Refuse a state saved by an older layout, with the reason."""
    if state.get("version") != STATE_VERSION:
        raise DataError(
            f"fitted state version {state.get('version')} is not {STATE_VERSION}: "
            "the model was saved by an older lstmflow; retrain it"
        )


def scaling_report(why: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Count of scaler kinds per column, and why robust was chosen (first few series)."""
    kinds: dict[str, Counter] = {}
    robust: dict[str, dict[str, str]] = {}
    for sid, cols in why.items():
        for c, text in cols.items():
            kind = text.split(":", 1)[0]
            kinds.setdefault(c, Counter())[kind] += 1
            if kind == "robust" and len(robust) < _MAX_REASONS:
                robust.setdefault(sid, {})[c] = text
    return {"kinds": {c: dict(k) for c, k in kinds.items()}, "robust_because": robust}


def level_range(frame: pd.DataFrame, bounds: dict[str, Bounds]) -> dict[str, list[float]]:
    """Per series, the observed target's [min, max] over its training rows: what predict
    compares new data with (levels the model never saw)."""
    out = {}
    for sid, rows in frame.groupby(SERIES, sort=False)[TARGET]:
        b = bounds.get(str(sid))
        train = rows.to_numpy(dtype="float64")[: b.train_end] if b else np.zeros(0)
        train = train[np.isfinite(train)]
        if train.size:
            out[str(sid)] = [float(train.min()), float(train.max())]
    return out


def ranges_outside(level, lo, hi):
    """How far `level` lies outside [lo, hi], in widths of that range (0 inside it); scalars
    or arrays alike. The one measure of a level shift: the diagnosis' later periods, gate 1's
    newest rows and predict's newest window all use it. The caller keeps hi > lo."""
    return np.maximum(np.maximum(lo - level, level - hi), 0.0) / (hi - lo)


def input_columns(cfg: PipelineConfig, calendar: list[str]) -> list[str]:
    """The model inputs, in the order the model reads them: z, covariates, missing indicators,
    engineered features (calendar parts as fitted from the training rows' time step)."""
    covs = list(cfg.data.value_columns)
    indicators = ([f"missing_{c}" for c in (TARGET, *covs)]
                  if cfg.preprocess.missing_indicators else [])
    return [Z, *covs, *indicators, *feature_names(cfg.features, calendar)]


def prepare(
    frame: pd.DataFrame,
    bounds: dict[str, Bounds],
    cfg: PipelineConfig,
    state: dict[str, Any] | None = None,
    future: pd.DataFrame | None = None,
) -> Prepared:
    """Impute, add features, transform the target and scale; fit everything unless `state` is
    given. `future`: the rows after each series' last one (`series_id, timestamp` and the known
    covariates, lstmflow.data.known.future_rows) whose known inputs the last rows' leads read."""
    pcfg = cfg.preprocess
    covs = list(cfg.data.value_columns)
    columns = [TARGET, *covs]
    frame = frame.reset_index(drop=True)
    if state is not None:
        _check_state(state)
    knn_state = state["imputer"]["knn"] if state else None
    filled, impute_report, knn_state = impute(frame, bounds, pcfg, columns, knn_state)
    if state is None:
        train_end = {s: b.train_end for s, b in bounds.items()}
        fstate = fit_feature_state(filled, LEVEL, train_end, cfg.features)
    else:
        fstate = state["feature_state"]
    feats, feature_cols, feature_report = add_features(filled, LEVEL, cfg.features, fstate)
    indicators = [f"missing_{c}" for c in columns] if pcfg.missing_indicators else []
    for c, name in zip(columns, indicators, strict=False):
        feats[name] = frame[c].isna().to_numpy(dtype="float64")  # [N] 1 where the value was missing
    feats[Z] = transform_target(feats[LEVEL], feats[SERIES], pcfg.target_transform)
    # The training target: the same transform, only at steps whose level was observed.
    feats["_z_target"] = feats[Z].where(feats[OBSERVED])
    # Linear interpolation reads the value after a gap: no window may end inside such a gap.
    interpolated = frame[columns].isna().to_numpy() & filled[columns].notna().to_numpy()
    feats[ORIGIN_OK] = ~interpolated.any(axis=1) if pcfg.impute == "linear" else True
    # Rows the model-input gate checks: after a gap left open the features warm up again, like
    # at the series start (windows skip both alike: models.data.window_ends).
    feats[WARM] = warm_rows(filled, LEVEL, cfg.features) & filled[covs].notna().all(axis=1).to_numpy()
    inputs = input_columns(cfg, fstate["calendar"])
    passthrough = set(indicators) | set(calendar_names(fstate["calendar"])) | {HOLIDAY}
    known = known_names(cfg.features, list(cfg.data.known_covariates), fstate["calendar"])
    report: dict[str, Any] = {"imputation": impute_report, "inputs": inputs, **feature_report}
    if known:
        report["known_ahead"] = known
    if state is None:
        params, why = fit_scalers(feats, bounds, inputs, pcfg, passthrough)
        report["scaling"] = scaling_report(why)
        state = {
            "version": STATE_VERSION,
            "target_transform": pcfg.target_transform,
            "scaler": pcfg.scaler,
            "impute": pcfg.impute,
            "max_gap": pcfg.max_gap,
            "inputs": inputs,
            "features": feature_cols,
            "feature_state": fstate,
            "imputer": {"knn": knn_state},
            "scalers": params,
            "level_range": level_range(frame, bounds),
            "known": known,
            "lead_steps": cfg.forecast.horizon if known else 0,
        }
    elif state["inputs"] != inputs:
        raise DataError(f"inputs {inputs} differ from the fitted state's {state['inputs']}")
    elif (state.get("known") or []) != known:
        raise DataError(f"inputs known ahead {known} differ from the fitted state's "
                        f"{state.get('known') or []}")
    params = state["scalers"]
    scaled = apply_scalers(feats, params, inputs)
    center, scale = scaler_arrays(feats, params, Z)  # the target is scaled like the z input
    scaled["_z_target"] = ((feats["_z_target"].to_numpy() - center) / scale).astype(np.float32)
    leads = None
    if known:
        fv = future_values(future, cfg, state) if future is not None and len(future) else None
        leads = lead_block(scaled, known, cfg.forecast.horizon, future, fv)  # [N, (H+1) * K]
    arrays = to_arrays(scaled, inputs, bounds, leads, len(known))
    return Prepared(arrays=arrays, inputs=inputs, state=state, report=report, frame=scaled)
