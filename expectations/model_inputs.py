"""Gate 2: the model inputs after imputation, features and scaling, before the first batch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expectations.runner import frame_locator, gate_result, run_suite
from lstmflow.config import PipelineConfig
from lstmflow.data.schema import WARM

SEVERITY: dict[str, str] = {
    "inputs_order": "error", "inputs_finite": "error", "inputs_nan": "error", "inputs_scale": "error",
}


def warmed_up(frame: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """Rows where every input should be defined (prepare's WARM column): target and covariates
    known, past the feature warm-up that follows the series start or a gap too long to impute.
    Rows inside such gaps are gate 1's business (its 'missing' and 'gap' checks)."""
    return frame.loc[frame[WARM].to_numpy(dtype=bool), inputs]


def expected_inputs(cfg: PipelineConfig, frame: pd.DataFrame,
                    calendar: list[str] | None = None) -> list[str]:
    """The model inputs the config asks for, in order; calendar parts as fitted, or chosen from
    the frame's time step when not given."""
    from lstmflow.data.features import calendar_parts
    from lstmflow.data.prepare import input_columns
    from lstmflow.data.timestamps import series_step

    if calendar is None:
        calendar = calendar_parts(cfg.features, series_step(frame))
    return input_columns(cfg, calendar)


def _meta(cfg: PipelineConfig, check: str, rule: str) -> dict[str, Any]:
    return {"check": check, "rule": rule, "severity": cfg.quality.severity.get(check, SEVERITY[check])}


def input_expectations(inputs: list[str], cfg: PipelineConfig, expected: list[str] | None = None) -> list:
    """Order, finiteness, NaN share and scaled magnitude of every model input."""
    import great_expectations.expectations as gxe

    q = cfg.quality
    bound = q.max_scaled_abs
    huge = float(np.finfo(np.float64).max)
    exps: list = [
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=expected if expected is not None else inputs,
            meta={**_meta(cfg, "inputs_order", "expected feature columns present and in order"),
                  "column": None},
        )
    ]
    for c in inputs:
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=c, min_value=-huge, max_value=huge,
            meta=_meta(cfg, "inputs_finite", "finite after scaling (no inf)")))
        exps.append(gxe.ExpectColumnValuesToNotBeNull(
            column=c, mostly=1 - q.max_missing_ratio,
            meta=_meta(cfg, "inputs_nan", f"NaN after the feature warm-up <= {q.max_missing_ratio:g} "
                       "share (the warm-up restarts after each gap too long to impute)")))
        exps.append(gxe.ExpectColumnValuesToBeBetween(
            column=c, min_value=-bound, max_value=bound,
            meta=_meta(cfg, "inputs_scale", f"scaled magnitude <= {bound:g}")))
    return exps




def validate_model_inputs(frame: pd.DataFrame, inputs: list[str], cfg: PipelineConfig,
                          ctx=None, calendar: list[str] | None = None) -> dict[str, Any]:
    """Run gate 2 on the warmed-up scaled inputs (in the order the model reads them)."""
    exps = input_expectations(inputs, cfg, expected_inputs(cfg, frame, calendar))
    rows = run_suite("model-inputs", warmed_up(frame, inputs), exps, ctx=ctx,
                     locate=frame_locator(frame))
    return gate_result(rows)
