"""Torch threads on a shared machine: one training alone vs two side by side, per setting.

Each training is a separate process (as a worker runs flow runs) calling
`lstmflow.fit.train.train_model` on the same synthetic arrays as bench/train_throughput.py.
Settings: torch's own default (every core in every process) and `runtime.torch_threads: 0` (auto)
with `runtime.concurrent_runs` 1 and 2. Prints each setting's training seconds alone and in a
pair (best of --repeats), and the ratios: pair / alone (the cost of sharing) and each setting
vs the default.

Run: .venv/bin/python bench/torch_threads.py [--check-steps 10 --checks 2 --repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

SETTINGS = {  # name -> runtime section (None: leave torch's default alone)
    "torch default": None,
    "auto, concurrent_runs 1": {"torch_threads": 0, "concurrent_runs": 1},
    "auto, concurrent_runs 2": {"torch_threads": 0, "concurrent_runs": 2},
}


def child(args: argparse.Namespace) -> None:
    """One training in this process; prints its seconds and thread count as JSON."""
    import logging
    import warnings

    import torch
    from train_throughput import bench_config, make_arrays

    from lstmflow.fit.train import train_model

    warnings.filterwarnings("ignore")
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    cfg = bench_config(args)
    runtime = json.loads(args.child)
    if runtime is not None:
        cfg = cfg.model_copy(update={"runtime": cfg.runtime.model_validate(runtime)})
    else:  # torch's default: make train_model's own call a no-op
        cfg = cfg.model_copy(update={"runtime": cfg.runtime.model_validate(
            {"torch_threads": torch.get_num_threads()})})
    arrays = make_arrays(args.series, args.length, args.features)
    with tempfile.TemporaryDirectory() as run_dir:
        res = train_model(arrays, cfg, log=lambda _: None, run_dir=Path(run_dir))
    print(json.dumps({"seconds": res.seconds, "threads": torch.get_num_threads()}))


def launch(args: argparse.Namespace, runtime: dict | None, n: int) -> list[dict]:
    """Start n trainings at once and wait for all; their own timings, not the launch's."""
    cmd = [sys.executable, __file__, "--child", json.dumps(runtime),
           f"--check-steps={args.check_steps}", f"--checks={args.checks}"]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) for _ in range(n)]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"a training failed: {outs}")
    return [json.loads(o.strip().splitlines()[-1]) for o in outs]


# The training shape of bench/train_throughput.py's defaults: LSTM(8 -> 64, 2 layers) over
# 4 series x 2000 steps, windows of 64, batch 128.
SHAPE = {"series": 4, "length": 2000, "features": 8, "window": 64, "horizon": 5, "hidden": 64,
         "layers": 2, "batch": 128}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--check-steps", type=int, default=10, help="steps between validation checks")
    p.add_argument("--checks", type=int, default=2, help="validation checks per training")
    p.add_argument("--repeats", type=int, default=2, help="best of this many per setting")
    args = p.parse_args()
    args.__dict__.update(SHAPE)
    if args.child:
        return child(args)
    from lstmflow.runtime import usable_cores

    print(f"{usable_cores()} usable cores, load average {os.getloadavg()[0]:.2f}; "
          f"LSTM({args.features}->{args.hidden} x{args.layers}), batch {args.batch}, "
          f"{args.checks} checks x {args.check_steps} steps per training")
    rows = {}
    for name, runtime in SETTINGS.items():
        alone, pair, threads = [], [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            one = launch(args, runtime, 1)
            two = launch(args, runtime, 2)
            threads = one[0]["threads"]
            alone.append(one[0]["seconds"])
            pair.append(max(r["seconds"] for r in two))
            print(f"  {name}: alone {alone[-1]:.1f} s, pair {pair[-1]:.1f} s "
                  f"({time.perf_counter() - started:.0f} s with start-up)", flush=True)
        rows[name] = (threads, min(alone), min(pair))  # best of N: least disturbed by others
    ref_alone, ref_pair = rows["torch default"][1:]
    print(f"\nbest of {args.repeats}; load average now {os.getloadavg()[0]:.2f}")
    print(f"{'setting':26s}{'threads':>8s}{'alone s':>9s}{'pair s':>8s}{'pair/alone':>11s}"
          f"{'alone vs default':>18s}{'pair vs default':>17s}")
    for name, (threads, alone, pair) in rows.items():
        print(f"{name:26s}{threads:8d}{alone:9.2f}{pair:8.2f}{pair / alone:10.2f}x"
              f"{alone / ref_alone:17.2f}x{pair / ref_pair:16.2f}x")


if __name__ == "__main__":
    main()
