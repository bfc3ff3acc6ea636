"""train_flow: ingest > gate > split > preprocess > gate > train > repair > evaluate > diagnose >
register > report."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.context import get_run_context
from prefect.states import Failed

from expectations.runner import describe_failure, gate_message
from flows.hooks import notify_failure
from lstmflow.config import ConfigError, Override, PipelineConfig, config_from_parameters
from lstmflow.data.ingest import IngestResult
from lstmflow.data.prepare import Prepared
from lstmflow.data.schema import DataError
from lstmflow.fit.diagnosis import blocking, fit_broken
from lstmflow.fit.train import FitDiverged, TrainResult
from lstmflow.locks import LockBusy, RunLock
from lstmflow.report.summary import gate_block, metrics_block
from lstmflow.runs import HISTORY, TrainingError, is_resume_config, resume_config, run_folder
from lstmflow.serve.manifest import RegistryError, data_record
from tasks.diagnose import diagnose_task
from tasks.evaluate import evaluate_task
from tasks.ingest import ingest_task, short_series_task, snapshot_task
from tasks.preprocess import preprocess_task, split_task
from tasks.registry import register_task, unchanged_task
from tasks.repair import repair_task
from tasks.report import report_task
from tasks.train import train_task
from tasks.validate import ingested_gate_task, inputs_gate_task

EXPECTED_ERRORS = (DataError, ConfigError, TrainingError, RegistryError, LockBusy)
GATES = {"ingested": "gate", "model-inputs": "input_gate"}  # gate name -> its summary key


class GateFailed(RuntimeError):
    """A data-quality gate refused the data; the message lists each failed expectation."""


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


def gate_summary(gate: dict[str, Any]) -> dict[str, Any]:
    """The gate block of summary.json, with the paths of its table and Data Docs."""
    return {**gate_block(gate), **(gate.get("files") or {})}


# validate_parameters=False: the config is validated in the flow, so a rule that spans fields
# fails the run with one line, not a traceback (the UI form and the schema check are unchanged).
@flow(name="lstmflow-train", log_prints=True, validate_parameters=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def train_flow(
    config: PipelineConfig, run_id: str | None = None, resume: bool = False,
    overrides: Sequence[Override] = (), force: bool = False,
) -> dict[str, Any]:
    """Retrain the LSTM forecaster: refuse bad data, fit with guards, promote only if better.

    Args:
        config: The whole pipeline config; a deployment fills it in from its config file.
        run_id: Name of the run folder (default: time stamp + random suffix), or the run to resume.
        resume: Continue run `run_id` from its last checkpoint with its own saved config and data.
        overrides: Fields to change on top of `config`, as 'dotted.key=value' like the CLI's
            --set (e.g. training.max_epochs=5); every other field keeps its value.
        force: Train even when the data and the effective config equal the champion's
            (otherwise `registry.skip_unchanged` ends such a run early, Completed).
    """
    try:
        config = config_from_parameters(config, overrides)
        if resume and not run_id:
            raise ConfigError("resume needs the run_id of the run to continue")
        run_id = run_id or new_run_id()
        run_dir = run_folder(config.output_dir, run_id)  # made by the first step that keeps something
        if resume and not is_resume_config(config, run_dir):
            config = resume_config(run_dir)  # from the UI or a deployment: the run's own config
        lock = RunLock(config.output_dir, run_id)  # held while the run lives (lstmflow.locks)
        if run_dir.exists():  # an existing run folder: refuse it while another process runs it
            lock.acquire()
    except (ConfigError, TrainingError, LockBusy) as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))
    flow_run = getattr(get_run_context(), "flow_run", None)
    summary: dict[str, Any] = {
        "status": "running", "run_id": run_id, "run_dir": str(run_dir),
        "flow_run_id": str(flow_run.id) if flow_run else None,
        "config": config.model_dump(mode="json"), "warnings": [],
    }
    with lock:
        try:
            summary.update(_train_steps(config, run_id, run_dir, summary, resume, lock, force))
            summary["status"] = "completed"
        except (GateFailed, *EXPECTED_ERRORS) as exc:
            summary.update(status="failed", reason=str(exc), error_type=type(exc).__name__)
            if run_dir.exists() and lock.held:  # refused at ingestion: nothing kept or written
                report_task(summary, run_dir)
            get_run_logger().error(str(exc))
            return Failed(message=str(exc), data=summary)
        except Exception as exc:
            summary.update(status="error", reason=f"{type(exc).__name__}: {exc}",
                           error_type=type(exc).__name__)
            if run_dir.exists() and lock.held:
                report_task(summary, run_dir)
            raise
        report_task(summary, run_dir)
    return summary


def _train_steps(
    cfg: PipelineConfig, run_id: str, run_dir: Path, summary: dict, resume: bool = False,
    lock: RunLock | None = None, force: bool = False,
) -> dict:
    """The recipe; each step fills in its part of the summary as it goes."""
    data = ingest_and_gate(cfg, run_dir, summary, lock)
    gates = cfg.quality.enabled
    if cfg.registry.skip_unchanged and not (resume or force):
        skip = unchanged_task(cfg, data.report["fingerprint"])
        if skip:  # the champion already is this model: spend no training time
            return {"skipped": True, "promoted": False, "promotion_reason": skip}
    data = short_series_task(data, cfg)
    summary["warnings"] += [w["message"] for w in data.report["short_series_dropped"]]
    bounds = split_task(data.frame, cfg)
    prepared = preprocess_task(data.frame, bounds, cfg)
    summary["preprocess"] = prepared.report

    if gates:
        input_gate = _data(inputs_gate_task(prepared.frame, prepared.inputs, cfg, run_dir,
                                            prepared.state["feature_state"]["calendar"],
                                            return_state=True))
        summary["input_gate"] = gate_summary(input_gate)
        summary["warnings"] += [describe_failure(r) for r in input_gate["warnings"]]
        if not input_gate["success"]:
            raise GateFailed(gate_message("model-inputs", input_gate))
    snapshot_task(data, run_dir)

    try:
        fit = train_task(prepared, cfg, run_dir, resume)
    except FitDiverged as exc:  # no model, but the recorded epochs still say why
        fit = FitDiverged(str(exc), _saved_history(run_dir), getattr(exc, "seconds", 0.0))
    asked = cfg  # what skip_unchanged compares the next run with, whatever repair changes
    if cfg.training.auto_repair:  # refit with the diagnosis' remedies, keep the best on validation
        fit, prepared, cfg = _repair(summary, fit, prepared, data.frame, bounds, cfg, run_dir,
                                     resume)
    if isinstance(fit, FitDiverged):
        _diagnose(summary, fit.history, None, prepared, cfg)
        raise TrainingError(_broken_message(
            summary, "training produced no finite validation loss"))
    summary["training"] = {
        "epochs_run": fit.epochs_run, "best_epoch": fit.best_epoch,
        "best_val_loss": fit.best_val_loss, "seconds": round(fit.seconds, 2),
        "windows": fit.windows, "history_path": str(run_dir / HISTORY),
        "resumed_from_epoch": fit.resumed_from_epoch, "checkpoint": fit.checkpoint,
        "continued_from_epoch": fit.continued_from_epoch,
        "steps_run": fit.steps_run, "budget": fit.budget, "learning_rate": fit.learning_rate,
        "segment_len": fit.model.segment_len,  # model.segment_len as resolved
    }
    summary["warnings"] += fit.budget.get("notes", [])
    metrics = evaluate_task(fit.model, prepared, cfg, run_dir, fit.stack)
    summary["metrics"] = metrics_block(metrics)
    findings = _diagnose(summary, fit.history, metrics, prepared, cfg, fit)
    if fit_broken(findings):  # nothing is registered from a fit that broke
        raise TrainingError(_broken_message(summary, "the fit diverged"))

    meta = {"run_id": run_id, "data_fingerprint": data.report["fingerprint"], "asked": asked,
            "trained_at": datetime.now(UTC).isoformat(), "inputs": prepared.inputs,
            "flow_run_id": summary["flow_run_id"], "data": data_record(data.report, bounds),
            "diagnosis": findings, "gates": {name: (summary.get(key) or {}).get("success") for
                                             name, key in GATES.items()}}
    promotion = register_task(fit.model, prepared.state, cfg, metrics, meta, data.frame, bounds,
                              blocking(findings), resume)
    champ = promotion.get("champion_before") or {}
    if champ.get("error"):  # decided on the baselines alone: say so where people look
        summary["warnings"].append(f"champion {champ.get('version')} could not be re-scored on this "
                                   f"data ({champ['error']}); promotion compared baselines only")
    return {"promotion": promotion, "model_path": promotion["model_path"],
            "promoted": promotion["promoted"], "promotion_reason": promotion["reason"]}


def ingest_and_gate(cfg: PipelineConfig, run_dir: Path, summary: dict,
                    lock: RunLock | None = None) -> IngestResult:
    """Ingest, then the raw-data gate (shared with the backtest flow); a failed gate keeps only
    its report in the run folder and raises GateFailed. `lock` is taken before the first step
    that keeps something in the run folder."""
    data = ingest_task(cfg)
    if lock is not None:
        lock.acquire()
    summary.update(data_fingerprint=data.report["fingerprint"], ingest=data.report)
    if cfg.quality.enabled:
        gate = _data(ingested_gate_task(data.frame, cfg, data.report, run_dir, return_state=True))
        summary["gate"] = gate_summary(gate)
        summary["warnings"] += [describe_failure(r) for r in gate["warnings"]
                                if r["check"] != "history"]  # said once, by short-series below
        if not gate["success"]:
            raise GateFailed(gate_message("ingested", gate))
    else:
        summary["warnings"].append("data-quality gates are off (quality.enabled: false)")
        get_run_logger().warning(summary["warnings"][-1])
    return data


def _repair(summary: dict, first: TrainResult | FitDiverged, prepared: Prepared, frame,
            bounds: dict, cfg: PipelineConfig, run_dir: Path, resume: bool
            ) -> tuple[TrainResult | FitDiverged, Prepared, PipelineConfig]:
    """Run the repair task and record every attempt; the chosen attempt's fit, prepared data
    and config (the first fit's when no attempt is usable)."""
    out = repair_task(first, prepared, frame, bounds, cfg, run_dir, resume)
    summary.update(attempts=out.records(), repair=out.block())
    best = out.best
    return (best.fit or first), best.prepared, best.cfg


def _diagnose(summary: dict, history: list[dict], metrics: dict | None, prepared: Prepared,
              cfg: PipelineConfig, fit: TrainResult | None = None) -> list[dict]:
    """Run the diagnose task (a Failed state when the fit broke) and keep its findings."""
    out = _data(diagnose_task(history, metrics, prepared, cfg, fit, return_state=True))
    summary.update(diagnosis=out["findings"], data_stats=out["stats"])
    return out["findings"]


def _data(state):
    """What a task returned, also when it returned a Failed state on purpose (a refused gate,
    a broken fit); an exception it raised is raised here."""
    out = state.result(raise_on_failure=False)
    if isinstance(out, BaseException):
        raise out
    return out


def _saved_history(run_dir: Path) -> list[dict]:
    path = run_dir / HISTORY
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def _broken_message(summary: dict, what: str) -> str:
    """'<what>: <evidence>. Try --set ...' from the first error finding (the report and the
    summary's diagnosis carry the advice in full)."""
    f = next(f for f in summary["diagnosis"] if f["severity"] == "error")
    sets = " ".join(f"--set {o}" for o in f["remedy"]["overrides"])
    return f"{what}: {f['evidence']}." + (f" Try {sets}" if sets else "")
