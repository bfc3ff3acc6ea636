"""Config section `runtime`: how a run uses the machine (torch threads) and where fan-out work
(backtest folds; later tuning trials) runs: Prefect's thread pool or a Dask cluster."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lstmflow.config.base import _Section


class RuntimeConfig(_Section):
    """How a run shares the machine and fans out (README: 'Sizing threads', 'Backtesting')."""

    torch_threads: int = Field(
        0, ge=0, le=256,
        description="Torch intra-op threads of a training run (of each fold when folds run in "
        "parallel); 0 (auto): OMP_NUM_THREADS when set, else the cores this process may use "
        "(CPU affinity and cgroup quota) divided by concurrent_runs (and by the folds run at "
        "once). Torch's own default takes every core in every process: two runs side by side on "
        "2 cores then ran up to 40x slower than alone (bench/torch_threads.py).",
    )
    concurrent_runs: int = Field(
        2, ge=1, le=256,
        description="Auto threads only: trainings (or other CPU-heavy jobs) expected on this "
        "machine at once; each run takes usable cores / this, at least 1. The default 2 keeps "
        "a run from taking every core when a second job starts beside it; set 1 to give a "
        "backtest the whole machine.",
    )
    runner: Literal["thread", "dask"] = Field(
        "thread",
        description="Prefect task runner of fan-out work (backtest folds): 'thread' runs them "
        "in threads of this process (ThreadPoolTaskRunner); 'dask' on a Dask cluster "
        "(prefect-dask's DaskTaskRunner): a local cluster of `workers` processes on loopback, "
        "or the running scheduler at dask_address.",
    )
    workers: int = Field(
        0, ge=0, le=1024,
        description="Folds run at once: threads of the thread runner, processes of a local "
        "Dask cluster; 0 (auto): this run's cores (usable cores / concurrent_runs) divided by "
        "torch_threads when that is set, at most the number of folds. Ignored with "
        "dask_address (the cluster's workers decide).",
    )
    dask_address: str | None = Field(
        None, pattern=r"^(tcp|tls|ucx|inproc)://\S+$",
        description="runner 'dask' only (ignored otherwise): address of a running Dask "
        "scheduler, e.g. tcp://host:8786, whose workers were started from this project's "
        "environment; empty: a local cluster is started for the run and stopped after it.",
    )
