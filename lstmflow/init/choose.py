"""Choices `lstmflow init` makes by trying them: the target transform (a short validation fit
per candidate) and the data-quality checks this file already fails (plain functions).

The transform is not picked by a rule of thumb: on real series the best of level, diff and
log_return differs from series to series. Each candidate gets the same short fit on the
training part, and the one with the lowest validation MAE in original units wins (validation
only: the test part is never looked at).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import PipelineConfig, build_config
from lstmflow.data.schema import TARGET

# Per candidate: validation every 166 steps, no stop before 332, early stopping after 3 checks
# without gain. A third of a run's usual step cap: 300 steps ranked the transforms by how fast
# they start (vic_elec half-hourly demand: level 0.218 < log_return 0.233 < diff 0.236), not by
# where a full fit ends (there log_return 0.174 < diff 0.191 < level 0.216 after <= 1000 steps,
# as the full fits' validation also ranks them: 0.268 log_return vs 0.351 level).
SHORT_FIT_STEPS = 1000


def short_fit_budget(steps: int) -> dict[str, int]:
    """The training keys of one candidate's short fit."""
    check = max(1, steps // 6)
    return {"max_steps": steps, "min_steps": 2 * check, "val_check_steps": check, "patience": 3}


def transform_candidates(frame: pd.DataFrame, train_share: float) -> tuple[list[str], str]:
    """level and diff always; log_return when the target is positive in every training part."""
    y = frame[TARGET].to_numpy(dtype="float64")
    positive = bool(np.nanmin(y) > 0) if np.isfinite(y).any() else False
    if positive:
        return ["level", "diff", "log_return"], "the target is positive: log_return is a candidate"
    return ["level", "diff"], "the target is not always positive: log_return is not a candidate"


def input_gate_failure(prepared, cfg: PipelineConfig) -> str | None:
    """What the run's model-input gate (gate 2) would refuse in these prepared inputs, or None:
    a transform whose scaled values break it (a diff over a century of prices: the 2008 moves
    are a thousand early-century IQRs) would make a config that `lstmflow train` refuses."""
    from expectations.model_inputs import validate_model_inputs
    from expectations.runner import describe_failure, gate_context

    gate = validate_model_inputs(prepared.frame, prepared.inputs, cfg, ctx=gate_context(),
                                 calendar=prepared.state["feature_state"]["calendar"])
    if gate["success"]:
        return None
    return "; ".join(describe_failure(r) for r in gate["failed"])


def short_fit_score(frame: pd.DataFrame, cfg: PipelineConfig) -> dict[str, float]:
    """Validation MAE (original units) of a short fit of the core, and relative to seasonal
    naive; only `refused` (gate 2's failure) when the run's input gate would refuse the
    prepared inputs."""
    from lstmflow.core import Forecaster
    from lstmflow.data.ingest import drop_short_series

    frame, _ = drop_short_series(frame, cfg.min_history(), cfg.data.short_series, cfg.data.path)
    forecaster = Forecaster(cfg)
    prepared = forecaster.prepare(frame)
    refused = input_gate_failure(prepared, cfg)
    if refused:
        return {"refused": refused}
    fit = forecaster.fit(prepared, log=lambda _: None)
    if not fit.ok:  # scored as the worst candidate rather than stopping init
        return {"val_mae": math.inf, "val_rel_snaive": None, "steps": 0,
                "seconds": round(fit.seconds, 1)}
    model = forecaster.score(fit.val_forecasts)["overall"]["model"]  # the model alone
    return {"val_mae": model["mae"], "val_rel_snaive": model.get("rel_mae_vs_seasonal_naive"),
            "steps": fit.train.steps_run, "seconds": round(fit.train.seconds, 1)}


def choose_transform(
    frame: pd.DataFrame, raw: dict[str, Any], candidates: list[str],
    log: Callable[[str], None] = print, steps: int = SHORT_FIT_STEPS,
) -> tuple[str, dict[str, dict[str, float]], dict[str, str]]:
    """The candidate with the lowest validation MAE after the same short fit, all scores, and
    the candidates the model-input gate would refuse (not fitted; kind -> the gate's words)."""
    scores: dict[str, dict[str, float]] = {}
    refused: dict[str, str] = {}
    for kind in candidates:
        trial = {**raw, "preprocess": {**raw.get("preprocess", {}), "target_transform": kind},
                 "training": {**raw.get("training", {}), **short_fit_budget(steps)}}
        s = short_fit_score(frame, build_config(trial))
        if "refused" in s:
            refused[kind] = s["refused"]
            log(f"  {kind:<10} not fitted: the model-input gate would refuse it ({s['refused']})")
            continue
        scores[kind] = s
        rel = s["val_rel_snaive"]
        log(f"  {kind:<10} validation MAE {s['val_mae']:.4g}"
            f"{f' ({rel:.3f} of seasonal naive)' if rel is not None else ''} after "
            f"{s['steps']} steps, {s['seconds']:.0f} s")
    if not scores:
        raise TransformsRefused(refused)
    best = min(scores, key=lambda k: scores[k]["val_mae"])
    return best, scores, refused


class TransformsRefused(Exception):
    """Every candidate transform makes inputs the model-input gate refuses."""

    def __init__(self, refused: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in refused.items()))
        self.refused = refused


def failing_checks(frame: pd.DataFrame, cfg: PipelineConfig, report: dict[str, Any]
                   ) -> dict[str, list[str]]:
    """Error-level checks of the first data-quality gate that this file fails: check -> lines."""
    from expectations.ingested import validate_ingested
    from expectations.runner import describe_failure

    gate = validate_ingested(frame, cfg, report)
    out: dict[str, list[str]] = {}
    for row in gate["failed"]:
        out.setdefault(row["check"], []).append(describe_failure(row))
    return out
