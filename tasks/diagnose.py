"""Diagnose task: name what went wrong in the fit, from what the run recorded."""

from __future__ import annotations

import time
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from lstmflow.core import FitResult, Forecaster
from lstmflow.fit.diagnosis import fit_broken, headline


@task(name="diagnose", cache_policy=NO_CACHE)
def diagnose_task(forecaster: Forecaster, fit: FitResult, metrics: dict[str, Any] | None):
    """The core's diagnosis (findings and data statistics); a Failed state carrying it when
    the fit broke, so the UI shows this step failed while the flow still writes the summary
    and the report."""
    log, start = get_run_logger(), time.perf_counter()
    out = forecaster.diagnose(fit, metrics)
    for f in out.findings:
        sets = " ".join(f"--set {s}" for s in f["remedy"]["overrides"])
        line = f"{f['severity']}: {f['finding']}: {f['evidence']}" + (f" (try {sets})" if sets else "")
        {"error": log.error, "warning": log.warning}.get(f["severity"], log.info)(line)
    log.info(f"diagnosis took {time.perf_counter() - start:.2f}s")
    return Failed(message=headline(out.findings), data=out) if fit_broken(out.findings) else out
