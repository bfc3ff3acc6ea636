"""Diagnose task: name what went wrong in the fit, from what the run recorded."""

from __future__ import annotations

import time
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from lstmflow.config import PipelineConfig
from lstmflow.data.prepare import Prepared
from lstmflow.fit.attempt import diagnosis_config
from lstmflow.fit.diagnosis import data_stats, diagnose, fit_broken, headline
from lstmflow.fit.train import TrainResult


@task(name="diagnose", cache_policy=NO_CACHE)
def diagnose_task(history: list[dict[str, Any]], metrics: dict[str, Any] | None,
                  prepared: Prepared, cfg: PipelineConfig, fit: TrainResult | None = None):
    """Findings and data statistics; a Failed state (carrying both) when the fit broke, so the
    UI shows this step failed while the flow still writes the summary and the report. `fit`
    tells remedies the rate a `learning_rate: auto` fit used."""
    log, start = get_run_logger(), time.perf_counter()
    stats = data_stats(prepared.arrays, cfg.evaluation.season, cfg.forecast.horizon,
                       cfg.forecast.input_size)
    findings = diagnose(history, metrics, stats, diagnosis_config(cfg, fit, history))
    for f in findings:
        sets = " ".join(f"--set {s}" for s in f["remedy"]["overrides"])
        line = f"{f['severity']}: {f['finding']}: {f['evidence']}" + (f" (try {sets})" if sets else "")
        {"error": log.error, "warning": log.warning}.get(f["severity"], log.info)(line)
    log.info(f"diagnosis took {time.perf_counter() - start:.2f}s")
    out = {"findings": findings, "stats": stats}
    return Failed(message=headline(findings), data=out) if fit_broken(findings) else out
