"""Torch's thread count from the cores a run may use (plain functions; no Prefect).

Every process otherwise starts as many intra-op threads as the machine has cores; two
trainings side by side then fight over the same cores (bench/torch_threads.py measures it).
"""

from __future__ import annotations

import math
import os
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
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = usable_cores() if cores is None else cores
    return max(1, cores // runtime.concurrent_runs)


def apply_torch_threads(runtime: RuntimeConfig) -> int:
    """Set torch's intra-op threads for this process (call at the start of every training);
    returns the count set."""
    import torch

    n = torch_threads(runtime)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
