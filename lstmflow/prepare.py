"""From the canonical frame to model-ready arrays: impute > features > transform > scale.

One function so the training flow and prediction share exactly the same path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.features import add_features
from lstmflow.ingest import SERIES, TARGET
from lstmflow.preprocess import (
    LEVEL,
    OBSERVED,
    Bounds,
    SeriesArrays,
    Z,
    apply_scalers,
    fit_scalers,
    impute,
    prepared_state,
    to_arrays,
    transform_target,
)


@dataclass
class Prepared:
    arrays: list[SeriesArrays]
    inputs: list[str]  # model input columns, in order; inputs[0] is the transformed target
    state: dict[str, Any]  # JSON-safe fitted state
    report: dict[str, Any] = field(default_factory=dict)
    frame: pd.DataFrame | None = None  # scaled model-input frame (for the model-input gate)


def prepare(
    frame: pd.DataFrame,
    bounds: dict[str, Bounds],
    cfg: PipelineConfig,
    state: dict[str, Any] | None = None,
) -> Prepared:
    """Impute, add features, transform the target and scale; fit scalers unless `state` is given."""
    covs = list(cfg.data.covariates)
    filled, impute_report = impute(frame, cfg.preprocess, [TARGET, *covs])
    feats, feature_cols = add_features(filled, LEVEL, cfg.features)
    kind = cfg.preprocess.target_transform
    feats[Z] = transform_target(feats[LEVEL], feats[SERIES], kind)
    # The training target: the same transform, only at steps whose level was observed.
    feats["_z_target"] = feats[Z].where(feats[OBSERVED])
    inputs = [Z, *covs, *feature_cols]
    if state is None:
        params = fit_scalers(feats, bounds, inputs, cfg.preprocess.scaler)
        state = prepared_state(params, inputs, cfg.preprocess, {"features": feature_cols})
    params = state["scalers"]
    scaled = apply_scalers(feats, params, inputs)
    # The training target is scaled exactly like the z input.
    sid = scaled[SERIES].astype(str)
    scaled["_z_target"] = (
        (feats["_z_target"] - sid.map({s: p[Z]["center"] for s, p in params.items()}))
        / sid.map({s: p[Z]["scale"] for s, p in params.items()})
    ).astype("float32")
    arrays = to_arrays(scaled, inputs, bounds)
    report = {"imputation": impute_report, "inputs": inputs}
    return Prepared(arrays=arrays, inputs=inputs, state=state, report=report, frame=scaled)
