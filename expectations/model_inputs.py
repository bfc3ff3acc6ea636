"""Gate 2: the model inputs after imputation, features and scaling, before the first batch."""

from __future__ import annotations

from typing import Any

import pandas as pd

from expectations.runner import gate_result, run_suite
from lstmflow.config import PipelineConfig
from lstmflow.ingest import SERIES


def warmed_up(frame: pd.DataFrame, inputs: list[str], cfg: PipelineConfig) -> pd.DataFrame:
    """Rows past each series' feature warm-up (the longest rolling window plus one change)."""
    f = cfg.features
    warm = max([1, *f.rolling_mean_windows, *(w + 1 for w in f.volatility_windows)])
    pos = frame.groupby(SERIES).cumcount()
    return frame.loc[pos >= warm, inputs]


def input_expectations(inputs: list[str], cfg: PipelineConfig) -> list:
    import great_expectations.expectations as gxe

    bound = cfg.quality.max_scaled_abs
    exps: list = [
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=inputs, meta={"rule": "feature columns present and in order",
                                      "severity": "error"}
        )
    ]
    for c in inputs:
        exps.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=c, mostly=1 - cfg.quality.max_missing_ratio,
                meta={"rule": "no NaN after warm-up beyond the allowed missing share",
                      "severity": "error"},
            )
        )
        exps.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=c, min_value=-bound, max_value=bound,
                meta={"rule": f"finite, scaled magnitude <= {bound}", "severity": "error"},
            )
        )
    return exps


def validate_model_inputs(frame: pd.DataFrame, inputs: list[str], cfg: PipelineConfig) -> dict[str, Any]:
    """Run gate 2 on the warmed-up scaled inputs."""
    rows = run_suite("model-inputs", warmed_up(frame, inputs, cfg), input_expectations(inputs, cfg))
    return gate_result(rows)
