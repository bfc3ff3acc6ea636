"""Torch's thread count from the cores a run may use, and how many jobs (backtest folds,
tuning trials) run at once (plain functions; no Prefect).

Every process otherwise starts as many intra-op threads as the machine has cores; two
trainings side by side then fight over the same cores (bench/torch_threads.py measures it).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from lstmflow.config.runtime import RuntimeConfig

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def usable_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota
    (a container limited to 1.5 CPUs gets 2)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def torch_threads(runtime: RuntimeConfig, cores: int | None = None) -> int:
    """The thread count `runtime.torch_threads` asks for; 0 (auto) is OMP_NUM_THREADS when set,
    else the usable cores shared among `runtime.concurrent_runs` runs (at least 1)."""
    if runtime.torch_threads:
        return runtime.torch_threads
    return env_threads() or run_cores(runtime, cores)


def env_threads() -> int:
    """OMP_NUM_THREADS when it holds a positive count, else 0."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else 0


def run_cores(runtime: RuntimeConfig, cores: int | None = None) -> int:
    """The cores one run may use: usable cores / `runtime.concurrent_runs`, at least 1."""
    cores = usable_cores() if cores is None else cores
    return max(1, cores // runtime.concurrent_runs)


@dataclass(frozen=True)
class FanOut:
    """Where and how wide a run fans out its jobs (backtest folds, tuning trials)."""

    runner: str  # "thread" | "dask"
    workers: int  # jobs at once; 0: an existing Dask cluster's workers decide
    torch_threads: int  # per job; 0: each job's process decides (see `torch_threads`)
    address: str | None = None  # a running Dask scheduler

    def describe(self) -> str:
        where = (f"the Dask cluster at {self.address}" if self.address else
                 f"{self.workers} {'threads' if self.runner == 'thread' else 'Dask processes'}")
        threads = self.torch_threads or "auto (OMP_NUM_THREADS: Dask's nanny sets 1)"
        return f"{self.runner} runner: {where}, torch threads per job {threads}"


def fan_out(runtime: RuntimeConfig, jobs: int, cores: int | None = None) -> FanOut:
    """Jobs at once and torch threads per job, so that workers x threads stays within this
    run's cores (`run_cores`). With threads, torch's thread setting is per process: every job
    asks for the same count, so the pool is shared evenly."""
    per_job = runtime.torch_threads or env_threads()
    if runtime.runner == "dask" and runtime.dask_address:
        return FanOut("dask", 0, runtime.torch_threads, runtime.dask_address)
    budget = run_cores(runtime, cores)
    workers = runtime.workers or budget // max(per_job, 1)
    workers = max(1, min(jobs, workers))
    return FanOut(runtime.runner, workers, per_job or max(1, budget // workers))


def apply_torch_threads(runtime: RuntimeConfig) -> int:
    """Set torch's intra-op threads for this process (call at the start of every training);
    returns the count set."""
    import torch

    n = torch_threads(runtime)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
