"""Tracking tasks: open the run's tracker run (its config as parameters), close it with the run's
figures and findings, and mirror a promoted version into MLflow's registry. Each is guarded:
a tracker that fails is one warning, never a failed run (lstmflow.fit.tracking)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lstmflow.config import PipelineConfig
from lstmflow.fit.tracking import Run, close, flatten, log_outcome, log_params, open_run
from lstmflow.serve.manifest import effective_config
from lstmflow.serve.mirror import mirror_champion


@task(name="track-open", cache_policy=NO_CACHE)
def track_open_task(cfg: PipelineConfig, name: str, parent: Run | None = None
                    ) -> tuple[Run | None, list[str]]:
    """The tracker run of this flow run (None with `tracking.logger: none`, or when the tracker
    cannot be reached), its effective config logged as parameters; and the warning that says
    the run is not tracked (for the run's summary)."""
    said: list[str] = []

    def warn(line: str) -> None:
        said.append(line)
        get_run_logger().warning(line)

    run = open_run(cfg, name, parent, tags={"lstmflow.run_id": name}, warn=warn)
    log_params(run, flatten(effective_config(cfg.model_dump(mode="json"))))
    return run, said


@task(name="track-close", cache_policy=NO_CACHE)
def track_close_task(run: Run | None, summary: dict[str, Any]) -> None:
    """The run's final figures as metrics, what it found and decided as tags; closed."""
    if run is None:
        return
    log_outcome(run, outcome_metrics(summary), outcome_tags(summary))
    close(run, failed=summary.get("status") != "completed")


@task(name="mirror", cache_policy=NO_CACHE)
def mirror_task(cfg: PipelineConfig, run: Run | None, model_path: str) -> str | None:
    """A promoted version into MLflow's registry, alias 'champion' moved to it."""
    return mirror_champion(cfg, run, Path(model_path))


def outcome_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """Test MAE of the model and both baselines, the model's relative MAEs, each interval's
    test coverage, and the fit's time and steps."""
    m = summary.get("metrics") or {}
    out: dict[str, Any] = {}
    for method in ("model", "naive", "seasonal_naive"):
        if method in m:
            out[f"test_mae/{method}"] = m[method].get("mae")
    model = m.get("model") or {}
    out.update({"test_rel_mae/naive": model.get("rel_mae"),
                "test_rel_mae/seasonal_naive": model.get("rel_mae_vs_seasonal_naive")})
    for name, v in ((m.get("calibration") or {}).get("levels") or {}).items():
        out[f"test_coverage/{name}"] = v.get("coverage")
    t = summary.get("training") or {}
    out.update({"fit_seconds": t.get("seconds"), "steps_run": t.get("steps_run")})
    return {k: v for k, v in out.items() if v is not None}


def outcome_tags(summary: dict[str, Any]) -> dict[str, str]:
    """Status, promotion, data fingerprint, each gate and each finding (severity: evidence)."""
    tags = {"status": str(summary.get("status")), "promoted": str(summary.get("promoted")),
            "promotion_reason": str(summary.get("promotion_reason") or "")[:4000],
            "data_fingerprint": str(summary.get("data_fingerprint"))}
    for key in ("gate", "input_gate"):
        if summary.get(key):
            tags[f"gate.{key}"] = "passed" if summary[key].get("success") else "failed"
    for f in summary.get("diagnosis") or []:
        tags[f"finding.{f['finding']}"] = f"{f['severity']}: {f['evidence']}"[:4000]
    if (summary.get("training") or {}).get("start"):
        tags["start"] = summary["training"]["start"]
    return tags
