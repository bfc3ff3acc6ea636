"""One walk-forward fold on its own rows, through the core's Forecaster as a training run goes:
split > impute, features, scale > model-input gate > fit > evaluate > diagnose (plain; no
Prefect).

The fold gets its rows only (`plan.fold_frame`), fits everything on its training part, and
returns its record (lstmflow.records.backtest.FoldRecord) and plain data (no model, no files),
so it runs the same in a thread, in a Dask worker process, or on another machine.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lstmflow.backtest.plan import fold_dates
from lstmflow.config import ConfigError, PipelineConfig
from lstmflow.core import Forecaster
from lstmflow.data.prepare import Prepared
from lstmflow.data.schema import SERIES, DataError
from lstmflow.fit.diagnosis import fit_broken
from lstmflow.fit.evaluate import forecast_frame
from lstmflow.fit.intervals import score_table
from lstmflow.fit.tracking import close, log_outcome, open_run
from lstmflow.records.backtest import FoldRecord
from lstmflow.records.run import GateResult, Training
from lstmflow.report.summary import gate_block, metrics_block
from lstmflow.runs import TrainingError

FOLD_SERIES = 4  # series whose test forecasts a fold keeps for the report
# Great Expectations keeps one current project per process: folds in threads validate one at
# a time (a gate takes about a second; the fit is what runs in parallel).
_GATE_LOCK = threading.Lock()


class FoldRefused(RuntimeError):
    """The fold's model inputs failed the gate, or its fit broke; the message says why."""


@dataclass
class FoldResult:
    record: FoldRecord  # this fold's entry in backtest.json
    history: list[dict[str, Any]]  # per-epoch curves of the fit
    forecasts: pd.DataFrame | None  # test forecasts of the first FOLD_SERIES series
    scores: pd.DataFrame | None = None  # every series' test errors as conformal scores


def run_fold(frame: pd.DataFrame, cfg: PipelineConfig, index: int,
             track: Any = None) -> FoldResult:
    """Prepare, gate, fit, score and diagnose one fold's rows; a refused gate, a broken fit or
    unusable data ends the fold `failed` with the reason (other errors raise)."""
    start = time.perf_counter()
    record = FoldRecord(
        fold=index, status="completed", **fold_dates(frame, cfg.evaluation.test_size),
        series=int(frame[SERIES].nunique()), rows=len(frame),
        where=f"{socket.gethostname()} pid {os.getpid()} {threading.current_thread().name}")
    history: list[dict[str, Any]] = []
    forecasts = scores = None
    try:
        forecaster = Forecaster(cfg)
        bounds = forecaster.split(frame)
        record.train_rows = sum(b.train_end for b in bounds.values())
        prepared = forecaster.prepare(frame, bounds)
        if cfg.quality.enabled:
            _gate(prepared, cfg, record)
        nested = open_run(cfg, f"fold-{index}", track) if track is not None else None
        out = forecaster.run(prepared, track=nested)  # the training flow's fit, evaluate, diagnose
        _track_fold(nested, out)
        fit, evaluation, findings, history = out.fit, out.evaluation, out.findings, out.history
        record.update(diagnosis=findings, torch_threads=_threads())
        if fit.ok:
            t = fit.train
            record.training = Training(
                epochs_run=t.epochs_run, best_epoch=t.best_epoch,
                best_val_loss=t.best_val_loss, seconds=round(t.seconds, 2), windows=t.windows)
        if evaluation is None or fit_broken(findings):
            bad = next((x for x in findings if x["severity"] == "error"), None)
            raise FoldRefused(f"the fit broke ({bad['finding']}): {bad['evidence']}" if bad else
                              "the fit produced no finite validation loss")
        if not evaluation.metrics["overall"]:
            raise FoldRefused("no test point could be scored (every target in the test window "
                              "is missing, or no window fits before it)")
        block = metrics_block(evaluation.metrics)
        record.update(metrics=block, beats=beats(block))
        forecasts = forecast_frame(evaluation.forecasts.series[:FOLD_SERIES])
        scores = score_table(evaluation.forecasts.series, blended=True)  # as served
    except (FoldRefused, DataError, ConfigError, TrainingError) as exc:
        record.update(status="failed", reason=str(exc))
    record.seconds = round(time.perf_counter() - start, 2)
    return FoldResult(record, history, forecasts, scores)


def beats(block: dict[str, Any]) -> dict[str, bool]:
    """Whether the model beats each baseline: its relative MAE (geometric mean over series, the
    figure promotion uses) below 1; pooled MAE when a relative one cannot be formed."""
    model = block["model"]
    rel = {"naive": model.get("rel_mae"),
           "seasonal_naive": model.get("rel_mae_vs_seasonal_naive")}
    return {b: bool(r < 1) if r is not None else bool(model["mae"] < block[b]["mae"])
            for b, r in rel.items()}


def _gate(prepared: Prepared, cfg: PipelineConfig, record: FoldRecord) -> None:
    """The model-input gate on this fold's scaled inputs; raises FoldRefused when it fails."""
    from expectations.model_inputs import validate_model_inputs
    from expectations.runner import describe_failure, gate_context

    with _GATE_LOCK:
        gate = validate_model_inputs(prepared.frame, prepared.inputs, cfg, ctx=gate_context(),
                                     calendar=prepared.state["feature_state"]["calendar"])
    record.input_gate = GateResult.from_json(gate_block(gate))
    if not gate["success"]:
        raise FoldRefused("the model-input gate failed: "
                          + "; ".join(describe_failure(r) for r in gate["failed"]))


def _track_fold(run: Any, out: Any) -> None:
    """The fold's nested tracker run: its test MAE and findings, then closed (guarded)."""
    if run is None:
        return
    overall = (out.metrics or {}).get("overall") or {}
    log_outcome(run, {"test_mae": (overall.get("model") or {}).get("mae")},
                {f"finding.{f['finding']}": f["severity"] for f in out.findings})
    close(run, failed=not out.fit.ok)


def _threads() -> int:
    import torch

    return torch.get_num_threads()
