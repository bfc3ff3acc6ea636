"""train_flow: ingest > gate > split > preprocess > gate > train > (repair) > evaluate >
diagnose > register > report. Each step is a task over the core (lstmflow.core.Forecaster); the
flow keeps the run's record (summary.json) and fills it in as the steps return."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.context import get_run_context
from prefect.states import Failed

from expectations.runner import gate_message
from flows.common import (
    EXPECTED_ERRORS,
    GateCheck,
    GateFailed,
    gate_record,
    gate_warnings,
    new_run_id,
    raw_gate,
    unwrap,
)
from flows.hooks import notify_failure
from lstmflow.config import ConfigError, Override, PipelineConfig, config_from_parameters
from lstmflow.core import Diagnosis, FitResult, Forecaster
from lstmflow.fit.diagnosis import blocking, fit_broken
from lstmflow.fit.tracking import Run
from lstmflow.locks import LockBusy, RunLock
from lstmflow.records.run import RunSummary, Training
from lstmflow.report.summary import metrics_block
from lstmflow.runs import HISTORY, TrainingError, is_resume_config, resume_config, run_folder
from lstmflow.serve.manifest import data_record
from lstmflow.serve.warm import Start, describe
from tasks.diagnose import diagnose_task
from tasks.evaluate import evaluate_task
from tasks.ingest import ingest_task, short_series_task, snapshot_task
from tasks.preprocess import preprocess_task, split_task
from tasks.registry import register_task, unchanged_task
from tasks.repair import repair_task
from tasks.report import report_task
from tasks.track import mirror_task, track_close_task, track_open_task
from tasks.train import train_task
from tasks.validate import inputs_gate_task
from tasks.warm import adopt_task, calibration_task, fall_back_task, start_task


# validate_parameters=False: the config is validated in the flow, so a rule that spans fields
# fails the run with one line, not a traceback (the UI form and the schema check are unchanged).
@flow(name="lstmflow-train", log_prints=True, validate_parameters=False,
      on_failure=[notify_failure], on_crashed=[notify_failure])
def train_flow(
    config: PipelineConfig, run_id: str | None = None, resume: bool = False,
    overrides: Sequence[Override] = (), force: bool = False, event_id: str | None = None,
) -> dict[str, Any]:
    """Retrain the LSTM forecaster: refuse bad data, fit with guards, promote only if better.

    Args:
        config: The whole pipeline config; a deployment fills it in from its config file.
        run_id: Name of the run folder (default: time stamp + random suffix), or the run to resume.
        resume: Continue run `run_id` from its last checkpoint with its own saved config and data.
        overrides: Fields to change on top of `config`, as 'dotted.key=value' like the CLI's
            --set (e.g. training.max_steps=500); every other field keeps its value.
        force: Train even when the data and the effective config equal the champion's
            (otherwise `registry.skip_unchanged` ends such a run early, Completed).
        event_id: The id of the event that triggered this run (set by a deployment trigger:
            data updated, champion degraded); kept in summary.json as `trigger_event`.
    """
    try:
        cfg, run_dir, lock = open_run(config, overrides, run_id, resume)
    except (ConfigError, TrainingError, LockBusy) as exc:
        get_run_logger().error(str(exc))
        return Failed(message=str(exc))
    flow_run = getattr(get_run_context(), "flow_run", None)
    summary = RunSummary(status="running", run_id=run_dir.name, run_dir=str(run_dir),
                         flow_run_id=str(flow_run.id) if flow_run else None,
                         config=cfg.model_dump(mode="json"), warnings=[])
    if event_id:
        summary.trigger_event = event_id
    track, untracked = track_open_task(cfg, run_dir.name)  # None unless tracking.logger is set
    summary.warnings += untracked  # a tracker that cannot be reached: one warning
    with lock:
        try:
            retrain(cfg, run_dir, lock, summary, resume, force, track)
            summary.status = "completed"
        except EXPECTED_ERRORS as exc:
            return stopped(summary.fail("failed", exc), run_dir, lock, exc, track)
        except Exception as exc:
            stopped(summary.fail("error", exc), run_dir, lock, exc, track)
            raise
        report_task(summary, run_dir)
    track_close_task(track, summary.to_json())
    return summary.to_json()


def retrain(cfg: PipelineConfig, run_dir: Path, lock: RunLock, summary: RunSummary,
            resume: bool, force: bool, track: Run | None = None) -> None:
    """The recipe. Each task returns its part; the part goes into the run's record before
    the next step, so a run that stops anywhere still reports what it did."""
    data = ingest_task(cfg)
    lock.acquire()  # from here on the run keeps things in its folder
    summary.update(data_fingerprint=data.report["fingerprint"], ingest=data.report)
    gate = raw_gate(data, cfg, run_dir)
    summary.update(gate=gate.record, warnings=[*summary.warnings, *gate.warnings])
    skip = cfg.registry.skip_unchanged and not (resume or force) and \
        unchanged_task(cfg, data.report["fingerprint"])
    if skip:  # the champion already is this model: spend no training time
        summary.update(skipped=True, promoted=False, promotion_reason=skip)
        return
    data = short_series_task(data, cfg)
    summary.warnings += [w["message"] for w in data.report["short_series_dropped"]]

    forecaster = Forecaster(cfg)
    bounds = split_task(forecaster, data.frame)
    prepared = preprocess_task(forecaster, data.frame, bounds)
    summary.preprocess = prepared.report
    if cfg.quality.enabled:
        inputs = model_inputs_gate(prepared, cfg, run_dir)
        summary.update(input_gate=inputs.record, warnings=[*summary.warnings, *inputs.warnings])
    snapshot_task(data, run_dir)

    fit, start, said = first_fit(forecaster, prepared, data.frame, bounds, run_dir, resume, track)
    summary.warnings += said
    if cfg.training.auto_repair:  # refit with the diagnosis' remedies, keep the best on validation
        repaired = repair_task(fit, data.frame, bounds, run_dir, resume, track)
        summary.update(attempts=repaired.records(), repair=repaired.block())
        fit = repaired.best.result or fit
    if not fit.ok:
        diagnosis = diagnose(forecaster, fit, None, summary)
        raise TrainingError(broken_message(diagnosis, "training produced no finite validation "
                                                      "loss"))
    summary.update(training=training_record(fit, run_dir, start),
                   warnings=[*summary.warnings, *fit.train.budget.get("notes", [])])
    evaluation = evaluate_task(forecaster, fit, run_dir)
    summary.metrics = metrics_block(evaluation.metrics)
    diagnosis = diagnose(forecaster, fit, evaluation.metrics, summary)
    if fit_broken(diagnosis.findings):  # nothing is registered from a fit that broke
        raise TrainingError(broken_message(diagnosis, "the fit diverged"))

    meta = version_meta(summary, fit, data, bounds, asked=cfg)
    promotion = register_task(fit.fitted, evaluation.metrics, meta, data.frame, bounds,
                              blocking(diagnosis.findings), resume)
    summary.update(promotion=promotion, model_path=promotion.model_path,
                   promoted=promotion.promoted, promotion_reason=promotion.reason)
    if promotion.promoted and track is not None:  # the champion's alias in MLflow, best-effort
        mirror_task(cfg, track, promotion.model_path)
    champ = promotion.champion_before
    if champ is not None and champ.error:  # decided on the baselines alone: say so
        summary.warnings += [f"champion {champ.version} could not be re-scored on this data "
                             f"({champ.error}); promotion compared baselines only"]


def first_fit(forecaster: Forecaster, prepared, frame, bounds: dict, run_dir: Path,
              resume: bool, track: Run | None) -> tuple[FitResult, Start, list[str]]:
    """The run's fit: warm from a compatible champion or cold (a warm fit that loses is
    dropped for a cold one), its intervals calibrated on validation or a backtest; the fit,
    how it started and what to warn about."""
    cfg = forecaster.cfg
    calibration, said = calibration_task(cfg) if cfg.forecast.calibration == "backtest" else \
        (None, [])
    start = start_task(cfg, prepared, frame, bounds, resume)
    if start.kind == "adopt":  # the champion is this config as repair changed it: take that
        forecaster, prepared, start = adopt_task(start, cfg, frame, bounds)
    fit = train_task(forecaster, prepared, run_dir, resume, start.fitted, track, calibration)
    if cold := fall_back_task(start, fit, cfg, run_dir):  # the warm fit lost: start over
        start = Start("cold", f"warm start from {start.version} dropped: {cold}",
                      version=start.version, champion_val=start.champion_val)
        fit = train_task(forecaster, prepared, run_dir, track=track, calibration=calibration)
    return fit, start, said


def open_run(config: PipelineConfig, overrides: Sequence[Override], run_id: str | None,
             resume: bool) -> tuple[PipelineConfig, Path, RunLock]:
    """The run's config (its own saved one when resuming from the UI or a deployment), its
    folder and its lock (taken now when the folder exists: another process may run it)."""
    config = config_from_parameters(config, overrides)
    if resume and not run_id:
        raise ConfigError("resume needs the run_id of the run to continue")
    run_id = run_id or new_run_id()
    run_dir = run_folder(config.output_dir, run_id)  # made by the first step that keeps something
    if resume and not is_resume_config(config, run_dir):
        config = resume_config(run_dir)
    lock = RunLock(config.output_dir, run_id)  # held while the run lives (lstmflow.locks)
    if run_dir.exists():
        lock.acquire()
    return config, run_dir, lock


def model_inputs_gate(prepared, cfg: PipelineConfig, run_dir: Path):
    """Gate 2 on the scaled model inputs; raises GateFailed (carrying its record) when refused."""
    gate = unwrap(inputs_gate_task(prepared.frame, prepared.inputs, cfg, run_dir,
                                   prepared.state["feature_state"]["calendar"],
                                   return_state=True))
    if not gate["success"]:
        raise GateFailed(gate_message("model-inputs", gate), "input_gate", gate_record(gate),
                         gate_warnings(gate))
    return GateCheck(gate_record(gate), gate_warnings(gate))


def diagnose(forecaster: Forecaster, fit: FitResult, metrics: dict[str, Any] | None,
             summary: RunSummary) -> Diagnosis:
    """The diagnose task (a Failed state on purpose when the fit broke); its findings and
    statistics go into the record."""
    out = unwrap(diagnose_task(forecaster, fit, metrics, return_state=True))
    summary.update(diagnosis=out.findings, data_stats=out.stats)
    return out


def training_record(fit: FitResult, run_dir: Path, start: Start) -> Training:
    t = fit.train
    return Training(
        **describe(start, fit),
        epochs_run=t.epochs_run, best_epoch=t.best_epoch, best_val_loss=t.best_val_loss,
        seconds=round(t.seconds, 2), windows=t.windows, history_path=str(run_dir / HISTORY),
        resumed_from_epoch=t.resumed_from_epoch, checkpoint=t.checkpoint,
        continued_from_epoch=t.continued_from_epoch, steps_run=t.steps_run, budget=t.budget,
        learning_rate=t.learning_rate, segment_len=t.model.segment_len,
        calibration_seconds=fit.calibration_seconds, device=t.device)


def version_meta(summary: RunSummary, fit: FitResult, data, bounds: dict,
                 asked: PipelineConfig) -> dict[str, Any]:
    """What the version's manifest says of the run besides its metrics: `asked` is the config
    the run was asked to train (what skip_unchanged compares the next run with, whatever
    repair changed)."""
    gates = {"ingested": summary.gate, "model-inputs": summary.input_gate}
    return {"run_id": summary.run_id, "data_fingerprint": summary.data_fingerprint,
            "asked": asked, "trained_at": datetime.now(UTC).isoformat(),
            "inputs": fit.prepared.inputs, "flow_run_id": summary.flow_run_id,
            "data": data_record(data.report, bounds),
            "diagnosis": [f.to_json() for f in summary.diagnosis or []],
            "gates": {name: g.success if g else None for name, g in gates.items()}}


def stopped(summary: RunSummary, run_dir: Path, lock: RunLock, exc: BaseException,
            track: Run | None = None):
    """Write what the run did before it stopped (not when refused at ingestion: nothing is
    kept then) and end it Failed with the one-line reason."""
    if isinstance(exc, GateFailed) and exc.key:
        summary.update(**{exc.key: exc.record, "warnings": [*summary.warnings, *exc.warnings]})
    if run_dir.exists() and lock.held:
        report_task(summary, run_dir)
    track_close_task(track, summary.to_json())
    get_run_logger().error(summary.reason)
    return Failed(message=summary.reason, data=summary.to_json())


def broken_message(diagnosis: Diagnosis, what: str) -> str:
    """'<what>: <evidence>. Try --set ...' from the first error finding (the report and the
    summary's diagnosis carry the advice in full)."""
    f = next(f for f in diagnosis.findings if f["severity"] == "error")
    sets = " ".join(f"--set {o}" for o in f["remedy"]["overrides"])
    return f"{what}: {f['evidence']}." + (f" Try {sets}" if sets else "")
