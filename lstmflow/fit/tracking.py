"""Runs mirrored to the experiment trackers users already open, through Lightning's own loggers
(CSVLogger, TensorBoardLogger, MLFlowLogger): a run per training run, nested runs for its repair
attempts, backtest folds and tune trials, a point per validation check (plain functions).

A tracker is a convenience, never the record: every call is guarded, and the first failure (a
stopped server, a missing package) is said once as a warning and turns tracking off for the
rest of the process's run; the fit goes on. lstmflow's run folder and registry stay the source
of truth.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lstmflow.config import PipelineConfig
from lstmflow.store.location import local_dir

LOG = logging.getLogger("lstmflow.tracking")
PARENT_TAG = "mlflow.parentRunId"  # MLflow's own nested-run tag
_SAID: set[str] = set()
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Run:
    """A tracker run: its id (MLflow run id, or the csv/tensorboard version folder)."""

    kind: str  # csv, tensorboard, mlflow
    id: str
    experiment: str
    uri: str | None


def failure(what: str, exc: BaseException) -> str:
    """The one line a tracker failure is said with."""
    detail = str(exc).splitlines()[0][:300] if str(exc) else ""
    return f"tracking: {what} failed ({type(exc).__name__}: {detail}); the run goes on without it"


def warn_once(what: str, exc: BaseException, run: Run | None = None,
              warn: Callable[[str], None] | None = None) -> None:
    """One warning per failure kind and tracker run: the run goes on without it. `warn`: where
    to say it (a flow's run logger), else this module's logger."""
    key = f"{run.id if run else id(warn)}:{what}: {type(exc).__name__}"
    with _LOCK:
        if run is not None and key in _SAID:
            return
        _SAID.add(key)
    (warn or LOG.warning)(failure(what, exc))


def quick_failures() -> None:
    """MLflow's client retries an unreachable server with back-off for minutes by default: a
    tracker must not hold a run up that long (set only where the user has not)."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")


def _uri(cfg: PipelineConfig) -> str | None:
    t = cfg.tracking
    if t.logger in ("csv", "tensorboard"):
        return t.uri or str(local_dir(cfg.output_dir) / "tracking")
    return t.uri


def open_run(cfg: PipelineConfig, name: str, parent: Run | None = None,
             tags: dict[str, str] | None = None,
             warn: Callable[[str], None] | None = None) -> Run | None:
    """A new run named `name` (nested under `parent` when given), or None when tracking is off
    or the tracker cannot be reached (said through `warn`)."""
    t = cfg.tracking
    if t.logger == "none":
        return None
    experiment = t.experiment or cfg.name
    try:
        if t.logger != "mlflow":
            version = f"{parent.id}/{name}" if parent else name
            return Run(t.logger, version, experiment, _uri(cfg))
        quick_failures()
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=t.uri)
        found = client.get_experiment_by_name(experiment)
        exp_id = found.experiment_id if found else client.create_experiment(experiment)
        run_tags = {**(tags or {}), **({PARENT_TAG: parent.id} if parent else {})}
        run = client.create_run(exp_id, run_name=name, tags=run_tags)
        return Run("mlflow", run.info.run_id, experiment, t.uri)
    except Exception as exc:  # a tracker is never the reason a run fails
        warn_once(f"opening a {t.logger} run", exc, warn=warn)
        return None


def logger_for(run: Run | None):
    """The Lightning logger that writes into `run` (None: no tracking)."""
    if run is None:
        return None
    try:
        from pytorch_lightning import loggers

        if run.kind == "csv":
            return loggers.CSVLogger(run.uri, name=run.experiment, version=run.id)
        if run.kind == "tensorboard":
            return loggers.TensorBoardLogger(run.uri, name=run.experiment, version=run.id,
                                             default_hp_metric=False)
        return loggers.MLFlowLogger(experiment_name=run.experiment, tracking_uri=run.uri,
                                    run_id=run.id)
    except Exception as exc:
        warn_once(f"a {run.kind} logger", exc, run)
        return None


def numbers(row: dict[str, Any]) -> dict[str, float]:
    """The finite numbers of a history row, keyed as trackers accept them ('a:b' -> 'a/b')."""
    out = {}
    for k, v in row.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            continue
        out[k.replace(":", "/")] = float(v)
    return out


def log_metrics(run: Run | None, metrics: dict[str, Any], step: int | None = None,
                logger: Any = None) -> None:
    """Guarded: log finite numbers into `run` (through `logger` when one is open)."""
    if run is None:
        return
    try:
        logger = logger or logger_for(run)
        if logger is not None:
            logger.log_metrics(numbers(metrics), step=step)
            logger.save()
    except Exception as exc:
        warn_once(f"logging to {run.kind}", exc, run)


def log_params(run: Run | None, params: dict[str, Any]) -> None:
    """Guarded: the flattened config (dotted keys) as the run's parameters."""
    if run is None:
        return
    try:
        logger = logger_for(run)
        if logger is not None:
            logger.log_hyperparams(params)
            logger.save()
    except Exception as exc:
        warn_once(f"logging parameters to {run.kind}", exc, run)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'training.learning_rate': 0.003, ...} from a nested config dump."""
    out: dict[str, Any] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def log_outcome(run: Run | None, metrics: dict[str, Any], tags: dict[str, str]) -> None:
    """Guarded: a run's final figures as metrics and what it found and decided as tags (MLflow
    tags; parameters for csv/tensorboard, which have none)."""
    if run is None:
        return
    log_metrics(run, metrics)
    try:
        if run.kind == "mlflow":
            from mlflow.tracking import MlflowClient

            client = MlflowClient(tracking_uri=run.uri)
            for key, value in tags.items():
                client.set_tag(run.id, key, value)
        else:
            log_params(run, tags)
    except Exception as exc:
        warn_once(f"tagging the {run.kind} run", exc, run)


def close(run: Run | None, failed: bool = False) -> None:
    """Guarded: mark an MLflow run finished (or failed); nothing to do for files."""
    if run is None or run.kind != "mlflow":
        return
    try:
        from mlflow.tracking import MlflowClient

        MlflowClient(tracking_uri=run.uri).set_terminated(run.id, "FAILED" if failed else
                                                         "FINISHED")
    except Exception as exc:
        warn_once("closing the mlflow run", exc, run)
