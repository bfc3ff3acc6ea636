"""Prefect task runners for fan-out work (backtest folds; tuning trials): a thread pool in this
process, or Dask (a local cluster on loopback, or a running scheduler), chosen per run from the
config's `runtime` section (`lstmflow.runtime.fan_out` sizes it)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from prefect import Task, get_client, get_run_logger
from prefect.context import get_run_context
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.common import new_run_id
from lstmflow.config import Override, PipelineConfig, config_from_parameters
from lstmflow.records.fanout import FanOutSummary
from lstmflow.runs import run_folder
from lstmflow.runtime import FanOut

S = TypeVar("S", bound=FanOutSummary)


def open_run(record: type[S], config: PipelineConfig, overrides: Sequence[Override],
             run_id: str | None) -> tuple[PipelineConfig, Path, S]:
    """A fan-out flow's (backtest, tune) config with its overrides, run folder and the record
    it starts from (`record`: BacktestSummary, TuneSummary; its kind written in it); raises
    ConfigError on a bad config or run id."""
    config = config_from_parameters(config, overrides)
    run_id = run_id or new_run_id()
    run_dir = run_folder(config.output_dir, run_id)
    flow_run = getattr(get_run_context(), "flow_run", None)
    return config, run_dir, record(
        kind=record.model_fields["kind"].default, status="running", run_id=run_id,
        run_dir=str(run_dir), flow_run_id=str(flow_run.id) if flow_run else None,
        config=config.model_dump(mode="json"), warnings=[])


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
    api = _api_for_workers(plan) if plan.runner == "dask" else contextlib.nullcontext()
    with api, task_runner(plan) as runner:
        futures = [runner.submit(task, parameters=dict(p)) for p in calls]
        return [_resolve(f) for f in futures]


def _resolve(future) -> Any:
    try:
        return future.result(raise_on_failure=False)
    except Exception as exc:  # lost by the runner (e.g. a Dask worker died): that call's error
        return exc


@contextlib.contextmanager
def _api_for_workers(plan: FanOut) -> Iterator[None]:
    """Dask workers report their task runs to the flow's API. On Prefect's embedded API (no
    PREFECT_API_URL) its loopback address goes into the settings every task carries; without
    it each worker process would start an embedded API of its own, and the flow run would not
    see its folds. Workers on other machines cannot reach a loopback address: say so."""
    named = PREFECT_API_URL.value()  # also set by the CLI's temporary server (cli/server.py)
    with get_client(sync_client=True) as client:
        url = str(client.api_url).rstrip("/")
    if plan.address and urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1"):
        get_run_logger().warning(
            f"the flow reports to a Prefect API on loopback ({url}): Dask workers on other "
            f"machines than this one cannot report to it. Set PREFECT_API_URL to a Prefect "
            "server every worker can reach (README: 'Run the folds on a Dask cluster')")
    if named:
        yield
        return
    with temporary_settings({PREFECT_API_URL: url}):
        yield
