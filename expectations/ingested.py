"""Gate 1: the ingested canonical frame, and a per-series profile of it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from expectations.runner import gate_result, run_suite
from lstmflow.config import PipelineConfig
from lstmflow.ingest import SERIES, TARGET, TIME


def series_profile(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per series: rows, missing share of the target, longest run of missing steps."""
    na = frame[TARGET].isna()
    run_start = (~na).groupby(frame[SERIES]).cumsum()
    runs = na.groupby([frame[SERIES], run_start]).sum()
    longest = runs.groupby(level=0).max()
    g = frame.groupby(SERIES)
    return pd.DataFrame(
        {
            SERIES: g.size().index.astype(str),
            "rows": g.size().to_numpy(),
            "missing_ratio": na.groupby(frame[SERIES]).mean().to_numpy(),
            "longest_gap": longest.reindex(g.size().index).fillna(0).to_numpy(dtype=np.int64),
        }
    )


def _meta(rule: str, severity: str = "error") -> dict[str, str]:
    return {"rule": rule, "severity": severity}


def frame_expectations(cfg: PipelineConfig) -> list:
    import great_expectations.expectations as gxe

    exps = [
        gxe.ExpectColumnToExist(column=c, meta=_meta("column present"))
        for c in [SERIES, TIME, TARGET, *cfg.data.covariates]
    ]
    exps.append(
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=[SERIES, TIME], meta=_meta("(series, timestamp) unique")
        )
    )
    return exps


def profile_expectations(cfg: PipelineConfig) -> list:
    import great_expectations.expectations as gxe

    q = cfg.quality
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="missing_ratio", max_value=q.max_missing_ratio,
            meta=_meta(f"missing target share per series <= {q.max_missing_ratio}"),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="rows", min_value=cfg.min_history(),
            meta=_meta(f"enough history per series (>= {cfg.min_history()} rows)"),
        ),
    ]


def validate_ingested(frame: pd.DataFrame, cfg: PipelineConfig) -> dict[str, Any]:
    """Run gate 1 and return the gate result, with failing series named in the examples."""
    rows = run_suite("ingested", frame, frame_expectations(cfg))
    profile = series_profile(frame)
    prof_rows = run_suite("ingested-series", profile, profile_expectations(cfg))
    for r in prof_rows:  # name the failing series, not just their values
        if not r["success"] and r["error"] is None and r["column"] in profile.columns:
            bad = profile[profile[r["column"]].isin(r["examples"])]
            r["examples"] = [f"{s}: {v}" for s, v in bad[[SERIES, r["column"]]].to_numpy()[:5]]
    result = gate_result(rows + prof_rows)
    result["profile"] = profile.to_dict(orient="records")
    return result
