"""Prefect task runners for fan-out work (backtest folds; tuning trials): a thread pool in this
process, or Dask (a local cluster on loopback, or a running scheduler), chosen per run from the
config's `runtime` section (`lstmflow.runtime.fan_out` sizes it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import Task
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from lstmflow.runtime import FanOut


def task_runner(plan: FanOut) -> TaskRunner:
    """ThreadPoolTaskRunner of `plan.workers` threads, or prefect-dask's DaskTaskRunner: on the
    scheduler at `plan.address`, else on a local cluster of `plan.workers` single-threaded
    processes listening on 127.0.0.1 only (no dashboard port)."""
    if plan.runner == "thread":
        return ThreadPoolTaskRunner(max_workers=plan.workers)
    from prefect_dask import DaskTaskRunner

    if plan.address:
        return DaskTaskRunner(address=plan.address)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": plan.workers, "threads_per_worker": 1, "processes": True,
        "host": "127.0.0.1", "dashboard_address": None})


def run_all(task: Task, calls: Sequence[dict[str, Any]], plan: FanOut) -> list[Any]:
    """Submit `task` once per parameter dict on the plan's runner and resolve every future
    (an unresolved future would not fail the flow). Each item is what the task returned (also
    the data of a Failed state it returned on purpose) or the exception it failed with."""
    with task_runner(plan) as runner:
        futures = [runner.submit(task, parameters=dict(p)) for p in calls]
        return [_resolve(f) for f in futures]


def _resolve(future) -> Any:
    try:
        return future.result(raise_on_failure=False)
    except Exception as exc:  # lost by the runner (e.g. a Dask worker died): that call's error
        return exc
