"""Automatic repair (`training.auto_repair`): refit with the diagnosis' remedy, keep the attempt
that scores best on the validation period (plain functions, no Prefect).

The policy, after AutoTrainer (TDSC'24), applied to forecasting fits:
1. Attempt 0 is the run as configured. Every attempt is judged on the validation period only
   (lstmflow.repair.selection): forecasts in original units, and a diagnosis from the curves, the
   validation metrics and the statistics of the training and validation parts.
2. The next attempt starts from the best usable attempt so far (the latest when none is usable)
   and applies the remedy of its worst warning- or error-level finding whose resulting config was
   not tried yet. Overrides accumulate: a repair of a repair keeps the first remedy.
3. Repair stops after `auto_repair` refits, when an attempt is healthy (no warning or error),
   when no untried remedy is left, or when the time left is short (below).
4. The chosen attempt is the usable one (a model, finite validation forecasts, a fit that did not
   break) with the lowest `selection.SCORE` on the validation points every usable attempt
   forecast; a tie keeps the earlier attempt. None usable: attempt 0 stands and the run fails
   as it would without repair.

A remedy is applied whole or not at all: one that needs a change a refit cannot make (data-quality
gates, the evaluation split, the data source, the horizon) is left to the user. A remedy's
`training.max_time_minutes` is dropped: the run's own value bounds all attempts together. Attempt
0 may use all of it, as without repair; refits together take at most `training.repair_time_factor`
x attempt 0's time (at least REPAIR_FLOOR_S, when attempt 0 is usable), a refit starts only while
half of that is left, and stops cleanly (best weights kept) when its time is spent.

What a refit starts from: a remedy that only lengthens the fit continues the parent's checkpoint
(lstmflow.repair.extend); one that keeps the network's shape and inputs (a learning rate,
clipping, weight decay, dropout, a schedule) starts from the parent's trained weights over
`training.warm_steps` of the step budget; one that changes them (SHAPE: units, layers, window,
transform, features) or answers noisy optimisation (COLD_AFTER) starts from random weights.
The attempts table says which (`start`).

Files: `attempts/<k>/` holds each attempt's history.json/.csv and attempt.json, and for refits
their checkpoints (and lr_find.json); attempt 0's checkpoint stays where a run without repair
keeps it. The run folder's history.json is the chosen attempt's. A resumed run rebuilds the
finished attempts from their checkpoints (a finished fit resumes to the same weights at no
cost), so it takes the same decisions, and resumes the attempt in progress from its checkpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import ConfigError, PipelineConfig, with_overrides
from lstmflow.core import FitResult, Forecaster
from lstmflow.data.prepare import Prepared
from lstmflow.data.schema import DataError
from lstmflow.durable import sweep, write_json
from lstmflow.fit.tracking import close, log_outcome, open_run
from lstmflow.fit.train import save_history
from lstmflow.repair.candidates import Candidate, Repair
from lstmflow.repair.extend import continues_from, seed_checkpoint
from lstmflow.repair.plan import (
    REPREPARE,
    applicable,
    choose,
    keeps_shape,
    plan,
    share_of,
    time_left,
    triggers,
)
from lstmflow.repair.selection import KEY, SCORE, compare, validation_points
from lstmflow.runs import TrainingError, checkpoint_path

__all__ = ["Candidate", "Repair", "applicable", "attempt_dir", "choose", "keeps_shape", "plan",
           "refit", "repair", "time_left", "triggers"]

ATTEMPTS = "attempts"  # <run_dir>/attempts/<k>/
RECORD = "attempt.json"
KIND = "attempt-"  # crash-point names of an attempt's files: attempt-history.json, ...
def repair(first: FitResult, frame: pd.DataFrame | None, bounds: dict | None, run_dir: Path,
           resume: bool = False, log: Callable[[str], None] = print, track: Any = None
           ) -> Repair:
    """Judge the run's fit (`first`, the core's fit of the run's config), refit with remedies
    as the policy above says, and choose. `frame` and `bounds` re-prepare the data for a
    remedy that changes preprocessing."""
    run_dir = Path(run_dir)
    stats = _Stats()
    attempts = [_judge(stats, 0, {}, first.cfg, first, _secs(run_dir, 0, first.seconds))]
    _save(attempts[0], run_dir)
    stopped = "rounds"
    invalid: dict[str, str] = {}  # remedies this config refuses: why -> finding
    said: set[str] = set()
    cfg = first.cfg
    while len(attempts) <= cfg.training.auto_repair:
        if attempts[-1].healthy:
            stopped = "healthy"
            break
        left = time_left(attempts, cfg)
        step = plan(attempts, cfg, left, invalid)
        for why in invalid.keys() - said:
            log(f"repair: {why}")
            said.add(why)
        if step is None:
            stopped = "no remedy"
            break
        if left < max(share_of(attempts, cfg) / 2, 1.0):
            stopped = "time"
            break
        parent, overrides, why = step
        log(f"repair {len(attempts)}: {why} in attempt {parent.index}: "
            + " ".join(f"--set {k}={v}" for k, v in overrides.items()))
        attempts.append(refit(stats, len(attempts), overrides, parent, why, first, frame,
                              bounds, run_dir, resume, left, log, track))
        _save(attempts[-1], run_dir)
    chosen = choose(attempts)
    if chosen:  # the run folder's history is the chosen attempt's (attempt 0's is there already)
        save_history(attempts[chosen].history, run_dir)
    return Repair(attempts, chosen, stopped, sorted(invalid))


def refit(stats: _Stats, k: int, overrides: dict[str, str], parent: Candidate, why: str,
          first: FitResult, frame: pd.DataFrame | None, bounds: dict | None, run_dir: Path,
          resume: bool, left_s: float, log: Callable[[str], None], track: Any = None
          ) -> Candidate:
    """Attempt `k`: the run's config (`first.cfg`) with `overrides`, fitted by the core in
    `attempts/<k>/` within `left_s` seconds (resumed from its checkpoint when the run resumes),
    then judged. A remedy that only lengthens the parent's fit continues it from its
    checkpoint; one that changes preprocessing re-prepares `frame`, else the run's prepared
    data is reused."""
    folder, start = attempt_dir(run_dir, k), time.perf_counter()
    result, error, this = None, None, first.cfg
    source, warm, nested = continues_from(parent, overrides), None, None
    changed = {key: v for key, v in overrides.items() if parent.overrides.get(key) != v}
    try:
        this = with_overrides(first.cfg, [f"{key}={v}" for key, v in overrides.items()])
        data = (frame, bounds) if any(key.startswith(REPREPARE) for key in overrides) else \
            (first.prepared, None)
        again = resume and checkpoint_path(folder).is_file()
        for sub in (folder, checkpoint_path(folder).parent) if resume else ():
            sweep(sub)  # the leftovers of a killed writer (the run lock is ours)
        if source and not again:
            log(f"repair {k}: continues attempt {parent.index}'s fit from its checkpoint")
            seed_checkpoint(source, checkpoint_path(folder), f"{KIND}last.ckpt")
            again = True
        # a broken parent's weights are no start: a remedy for divergence starts afresh
        keep = parent.usable and keeps_shape(changed, why) and not (source or again)
        warm = parent.fit if keep else None
        if warm is not None:
            log(f"repair {k}: starts from attempt {parent.index}'s trained weights")
        nested = open_run(this, f"attempt-{k}", track) if track is not None else None
        result = Forecaster(this).fit(*data, run_dir=folder, resume=again, log=log,
                                      checkpoint_kind=f"{KIND}last.ckpt", time_limit_s=left_s,
                                      init=warm.model if warm is not None else None,
                                      track=nested)
        if source and result.ok:  # its `seconds` are this attempt's own steps, its curve the
            fit = result.train  # whole fit's
            fit.continued_from_epoch = parent.fit.epochs_run
            fit.resumed_from_epoch = fit.resumed_from_epoch if resume else None
    except (ConfigError, DataError, TrainingError) as exc:
        error = str(exc)
        log(f"repair {k} could not run: {error}")
    out = _judge(stats, k, overrides, this, result, time.perf_counter() - start, parent.index,
                 why, error)
    out.secs = _secs(run_dir, k, out.secs)
    out.start = ("continued" if source else "warm" if warm is not None else "cold")
    if track is not None and nested is not None:
        own = compare({k: out.points})[k][SCORE] if out.usable else None  # on its own points
        log_outcome(nested, {"val_rel_mae": own},
                    {"remedy_for": why, "start": out.start,
                     "overrides": " ".join(f"{key}={v}" for key, v in changed.items())})
        close(nested, failed=not out.usable)
    return out


def attempt_dir(run_dir: Path, k: int) -> Path:
    return Path(run_dir) / ATTEMPTS / str(k)


def _judge(stats: _Stats, k: int, overrides: dict[str, str], cfg: PipelineConfig,
           result: FitResult | None, secs: float, parent: int | None = None,
           why: str | None = None, error: str | None = None) -> Candidate:
    """Validation forecasts and diagnosis of one fit (none for an attempt that never ran)."""
    start = time.perf_counter()
    metrics, points = None, pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])
    if result is not None and result.ok:
        metrics, points = validation_points(result)
    findings = [] if result is None else Forecaster(cfg).diagnose(
        result, metrics, period="validation", stats=stats(result.prepared, cfg)).findings
    return Candidate(k, overrides, cfg, result, findings, points,
                     secs + time.perf_counter() - start, parent, why, error)


class _Stats:
    """Data statistics per prepared arrays and window, computed once (a repair judges several
    fits of the same arrays)."""

    def __init__(self) -> None:
        self.seen: list[tuple[Prepared, int, dict[str, Any]]] = []

    def __call__(self, prepared: Prepared, cfg: PipelineConfig) -> dict[str, Any]:
        L = cfg.forecast.input_size
        for p, window, stats in self.seen:
            if p is prepared and window == L:
                return stats
        stats = Forecaster(cfg).data_stats(prepared)
        self.seen.append((prepared, L, stats))
        return stats


def _save(a: Candidate, run_dir: Path) -> None:
    folder = attempt_dir(run_dir, a.index)
    save_history(a.history, folder, KIND)
    write_json(folder / RECORD, a.record(), RECORD)


def _secs(run_dir: Path, k: int, measured: float) -> float:
    """The attempt's time: what its record says when a killed run had finished it (a resumed
    fit takes no time), else what was measured."""
    path = attempt_dir(run_dir, k) / RECORD
    if path.is_file():
        return max(measured, float(json.loads(path.read_text(encoding="utf-8"))["secs"]))
    return measured
