"""Config section `runtime`: how a run uses the machine it runs on (torch threads for now).

The task-runner keys (`runtime.runner`, `runtime.dask_address`) join this section when Dask
fan-out lands; keep machine-level settings here, not in `training`.
"""

from __future__ import annotations

from pydantic import Field

from lstmflow.config.base import _Section


class RuntimeConfig(_Section):
    """How a run shares the machine: torch's intra-op threads (README: 'Sizing threads')."""

    torch_threads: int = Field(
        0, ge=0, le=256,
        description="Torch intra-op threads of a training run; 0 (auto): OMP_NUM_THREADS "
        "when set, else the cores this process may use (CPU affinity and cgroup quota) divided "
        "by concurrent_runs. Torch's own default takes every core in every process: two runs "
        "side by side on 2 cores then ran up to 40x slower than alone (bench/torch_threads.py).",
    )
    concurrent_runs: int = Field(
        2, ge=1, le=256,
        description="Auto threads only: trainings (or other CPU-heavy jobs) expected on this "
        "machine at once; each run takes usable cores / this, at least 1. The default 2 keeps "
        "a run from taking every core when a second job starts beside it.",
    )
