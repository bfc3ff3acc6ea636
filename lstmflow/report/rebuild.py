"""Rebuild a run's report.html from its folder alone, whatever state the run ended in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lstmflow.config import ConfigError
from lstmflow.report.html import read_curves, write_report
from lstmflow.report.summary import metrics_from_block, read_summary
from lstmflow.runs import RUN_CONFIG


def stored_summary(run_dir: Path) -> dict[str, Any]:
    """summary.json; for a run killed before writing one, what its saved config says."""
    path = run_dir / "summary.json"
    if path.is_file():
        return read_summary(path)
    cfg_path = run_dir / RUN_CONFIG
    if not cfg_path.is_file():
        raise ConfigError(f"run folder '{run_dir}' holds neither summary.json nor {RUN_CONFIG}: "
                          "the run stopped before training began, there is nothing to report")
    return {"run_id": run_dir.name, "run_dir": str(run_dir), "status": "interrupted",
            "reason": "the run stopped before writing its summary (killed?); this report shows "
                      "what it had recorded", "warnings": [],
            "config": json.loads(cfg_path.read_text(encoding="utf-8"))}


def rebuild_report(run_dir: Path) -> Path:
    """Write `<run_dir>/report.html` again; diagnose from the recorded history when the run
    ended before its diagnosis (the stored metrics and data statistics are used when present)."""
    from lstmflow.fit.diagnosis import diagnose

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"run folder '{run_dir}' does not exist")
    summary = stored_summary(run_dir)
    history, _ = read_curves(run_dir)
    if not summary.get("diagnosis") and history:
        metrics = metrics_from_block(summary["metrics"]) if summary.get("metrics") else None
        summary["diagnosis"] = diagnose(history, metrics, summary.get("data_stats"),
                                        summary.get("config"))
    return write_report(run_dir, summary)
