"""Run a command and sample its whole process tree (the CLI, its Prefect API server, Dask
workers): wall time, peak RSS summed over the tree, peak RSS of its largest process, peak
threads, and CPU seconds (each process's user + system time when last sampled: on a shared
machine, CPU s / wall s is the cores the run actually got). Shared by bench/backtest_runners.py
and bench/panel.py."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measured:
    returncode: int
    seconds: float
    peak_tree_mb: float  # RSS summed over the process tree, at its peak
    peak_process_mb: float  # the largest single process
    peak_threads: int  # threads of the tree, at its peak
    cpu_seconds: float  # user + system time of every process of the tree
    output: str


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def run_measured(cmd: list[str], env: dict | None = None, every: float = 0.2) -> Measured:
    """Start `cmd`, sample its tree every `every` s until it exits."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    peak = {"tree": 0, "proc": 0, "threads": 0}
    cpu: dict[int, float] = {}  # pid -> user + system seconds when last seen
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            rss, threads, big = 0, 0, 0
            for p in _tree(root):
                try:
                    r = p.memory_info().rss
                    threads += p.num_threads()
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
                except psutil.Error:
                    continue
                rss += r
                big = max(big, r)
            peak.update(tree=max(peak["tree"], rss), proc=max(peak["proc"], big),
                        threads=max(peak["threads"], threads))
            done.wait(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0]
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return Measured(proc.returncode, seconds, peak["tree"] / 2**20, peak["proc"] / 2**20,
                    peak["threads"], sum(cpu.values()), output)
