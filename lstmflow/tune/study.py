"""The Optuna study behind `lstmflow tune`: kept in SQLite under the output dir (or the
database of tune.storage), so a rerun
with the same study name continues from its stored trials; the workers that run its trials;
the trial table (tune.json's trials, lstmflow.records.tune.TrialRecord) and best.yaml."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from lstmflow.config import ConfigError, PipelineConfig
from lstmflow.data.schema import DataError
from lstmflow.durable import write_text
from lstmflow.fit.tracking import close, log_outcome, open_run
from lstmflow.records.tune import TrialRecord
from lstmflow.runs import TrainingError
from lstmflow.store.location import is_url, local_dir
from lstmflow.tune.signals import OBJECTIVE
from lstmflow.tune.space import capped, start_params, suggest, trial_config

TUNE_JSON, BEST_YAML = "tune.json", "best.yaml"
# Errors that end one trial FAILED with the reason (the study goes on); others stop the worker.
TRIAL_ERRORS = (ConfigError, DataError, TrainingError)


def study_name(cfg: PipelineConfig) -> str:
    return cfg.tune.study or cfg.name


def storage_path(cfg: PipelineConfig) -> Path:
    """<output_dir>/tune/<study>.db: outside the run folders, so every run finds it again."""
    return local_dir(cfg.output_dir) / "tune" / f"{study_name(cfg)}.db"


def unshared_study(cfg: PipelineConfig) -> str | None:
    """A warning when output_dir is a store several machines share but the study is the
    default SQLite file, which stays in this machine's mirror."""
    if cfg.tune.storage or not is_url(cfg.output_dir):
        return None
    return (f"the study is the SQLite file {storage_path(cfg)} in this machine's mirror of "
            f"{cfg.output_dir}: other machines do not share its trials; set tune.storage to a "
            "PostgreSQL URL (docs/several-machines.md)")


def storage_shown(cfg: PipelineConfig) -> str:
    """Where the study lives, as logs and tune.json say it: the SQLite file, or the database
    URL with its password masked."""
    if cfg.tune.storage is None:
        return str(storage_path(cfg).resolve())
    from sqlalchemy.engine import make_url

    return make_url(cfg.tune.storage).render_as_string(hide_password=True)


def _storage(cfg: PipelineConfig):
    """Optuna's RDB storage on tune.storage, else on the SQLite file (waiting up to 60 s for
    a lock); a database that cannot be reached is a ConfigError naming the masked URL."""
    import optuna

    if cfg.tune.storage is None:
        path = storage_path(cfg)
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.RDBStorage(
            f"sqlite:///{path.resolve()}", engine_kwargs={"connect_args": {"timeout": 60}})
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return optuna.storages.RDBStorage(cfg.tune.storage,
                                          engine_kwargs={"pool_pre_ping": True})
    except (SQLAlchemyError, ImportError) as exc:
        raise ConfigError(f"tune.storage {storage_shown(cfg)}: cannot open the study's "
                          f"database ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None


def open_study(cfg: PipelineConfig, worker: int = 0):
    """Create or load the study: TPE seeded with tune.seed + worker (parallel workers must not
    propose the same points; constant_liar keeps them off each other's running trials), the
    median pruner, minimising the validation error, on `_storage`."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = _storage(cfg)
    t = cfg.tune
    sampler = optuna.samplers.TPESampler(seed=t.seed + worker, constant_liar=True,
                                         n_startup_trials=max(1, t.startup_trials))
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=t.startup_trials, n_warmup_steps=0)
              if t.prune == "median" else optuna.pruners.NopPruner())
    return optuna.create_study(study_name=study_name(cfg), storage=storage, sampler=sampler,
                               pruner=pruner, direction="minimize", load_if_exists=True)


def prepare_study(cfg: PipelineConfig) -> int:
    """Open the study before the workers start (one creator: no race on the schema); returns
    the trials stored already (0: worker 0 starts with the small start trial)."""
    return len(open_study(cfg).trials)


def shares(trials: int, workers: int) -> list[int]:
    """Trials per worker, adding up to `trials` exactly (no worker overshoots the count)."""
    return [trials // workers + (i < trials % workers) for i in range(workers)]


def objective(frames: Sequence[Any], cfg: PipelineConfig, torch_threads: int,
              start: bool = False, track: Any = None):
    """The Optuna objective over `frames`: a trial's config, capped, fitted and scored; a
    pruned trial keeps its finding and reason as user attributes (`start`: marks the trial
    as the study's start trial; `track`: the tune run's tracker run, each trial nested in it)."""
    import optuna

    from lstmflow.tune.objective import Stopped, evaluate

    def run(trial) -> float:
        if start:
            trial.set_user_attr("start", True)
        params = suggest(trial, cfg)
        nested = open_run(cfg, f"trial-{trial.number}", track) if track is not None else None
        try:
            out = evaluate(frames, capped(trial_config(cfg, params), torch_threads), trial,
                           nested)
        except Stopped as exc:
            trial.set_user_attr("finding", exc.finding)
            trial.set_user_attr("reason", exc.reason)
            trial.set_user_attr("checks", len(exc.history))
            _track_trial(nested, None, params, exc.reason)
            raise optuna.TrialPruned(exc.reason) from None
        except TRIAL_ERRORS as exc:
            trial.set_user_attr("reason", f"{type(exc).__name__}: {exc}")
            _track_trial(nested, None, params, str(exc))
            raise
        for key in ("folds", "val_loss", "checks", "seconds"):
            trial.set_user_attr(key, getattr(out, key))
        _track_trial(nested, out.value, params)
        return out.value if math.isfinite(out.value) else float("nan")

    return run


def _track_trial(run: Any, value: float | None, params: dict[str, Any],
                 stopped: str | None = None) -> None:
    """A trial's nested tracker run: its objective, its params as tags, then closed."""
    if run is None:
        return
    log_outcome(run, {OBJECTIVE: value} if value is not None else {},
                {**{f"param.{k}": str(v) for k, v in params.items()},
                 **({"stopped": stopped[:4000]} if stopped else {})})
    close(run, failed=value is None)


def describe_trial(trial: Any) -> str:
    """One log line for a finished trial (an optuna FrozenTrial)."""
    state = trial.state.name.lower()
    if state == "complete":
        return f"trial {trial.number}: {trial.value:.4g} ({trial.params})"
    return f"trial {trial.number} {state}: {trial.user_attrs.get('reason', '')} ({trial.params})"


def run_worker(frames: Sequence[Any], cfg: PipelineConfig, worker: int, trials: int,
               deadline: float | None, torch_threads: int, start: bool = False,
               log: Callable[[str], None] | None = None, track: Any = None) -> list[int]:
    """Run `trials` trials of the study (fewer when `deadline`, a time.time(), passes first);
    returns their numbers; `log` gets a line per trial. `start`: the first is the small start
    trial (`start_params`), fixed through the sampler: Optuna's queue of enqueued trials is not
    race-free on SQLite (two workers popped the same trial)."""
    import optuna

    study = open_study(cfg, worker)
    mine: list[int] = []

    def done(_, trial) -> None:
        mine.append(trial.number)
        if log is not None:
            log(describe_trial(trial))

    tpe = study.sampler
    for n, first in [(1, True), (trials - 1, False)] if start else [(trials, False)]:
        timeout = None if deadline is None else deadline - time.time()
        if n <= 0 or (timeout is not None and timeout <= 0):
            break
        with warnings.catch_warnings():  # experimental since optuna 2.4, still in 5.0
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.sampler = optuna.samplers.PartialFixedSampler(start_params(cfg), tpe) \
                if first else tpe
        study.optimize(objective(frames, cfg, torch_threads, first, track), n_trials=n,
                       timeout=timeout, catch=TRIAL_ERRORS, gc_after_trial=False,
                       callbacks=[done])
    return sorted(mine)


def trial_records(cfg: PipelineConfig) -> list[TrialRecord]:
    """Every stored trial: number, state, value, params, prune reason and what the fits
    recorded."""
    study = open_study(cfg)
    out = []
    for t in study.get_trials(deepcopy=False):
        value = t.value if t.value is not None and math.isfinite(t.value) else None
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() \
            if t.datetime_complete and t.datetime_start else None
        out.append(TrialRecord(
            number=t.number, state=t.state.name.lower(), value=value, params=dict(t.params),
            start=bool(t.user_attrs.get("start")), finding=t.user_attrs.get("finding"),
            reason=t.user_attrs.get("reason"),
            last_report=(t.intermediate_values[max(t.intermediate_values)]
                         if t.intermediate_values else None),
            wall_seconds=round(seconds, 2) if seconds is not None else None,
            **{k: t.user_attrs.get(k) for k in ("folds", "val_loss", "checks")}))
    return out


def best_record(records: list[TrialRecord]) -> TrialRecord | None:
    done = [r for r in records if r.state == "complete" and r.value is not None]
    return min(done, key=lambda r: r.value) if done else None


def best_config(cfg: PipelineConfig, params: dict[str, Any]) -> PipelineConfig:
    """The user's config (its own training budget, not the per-trial cap) with the best
    trial's params: what `lstmflow train --config best.yaml` fits."""
    return trial_config(cfg, params)


def write_best_yaml(cfg: PipelineConfig, path: Path, header: str) -> Path:
    """The complete config as YAML, with a comment header saying where it came from."""
    body = yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    write_text(path, comment + body)
    return path
