"""Peak memory of building and iterating the windowed dataset, vs the raw float32 array.

1,000,000 rows x 16 features (64 MB as float32), window 64, horizon 5. A fresh subprocess
imports everything, records its RSS as the baseline, then creates the raw input array, builds
the stacked tensor and the window index (`StackedSeries`, `window_ends`, `WindowBatches`) and
draws every training batch once. Peak RSS (getrusage ru_maxrss) minus the baseline is compared
with the raw array's size; the raw array itself is inside the measurement. Target: < 3x.

Run: .venv/bin/python bench/window_memory.py [--rows 1000000 --features 16 --window 64 --series 1 8]
With several series the inputs are concatenated once into X (one copy of the raw array).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np, torch
from lstmflow.data.arrays import SeriesArrays
from lstmflow.data.split import Bounds
from models.data import StackedSeries, WindowBatches, loader, window_ends

torch.set_num_threads(1)
rows, feats, window, horizon, n_series, batch = {rows}, {features}, {window}, {horizon}, {series}, {batch}


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


base = rss_mb()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rng = np.random.default_rng(0)
per = rows // n_series
arrays = []
for i in range(n_series):
    x = rng.standard_normal((per, feats), dtype=np.float32)  # [T, F] the raw input
    x[per // 2 : per // 2 + 10] = np.nan  # an unfilled gap: windows across it are skipped
    z = x[:, 0].copy()  # [T]
    b = Bounds(train_end=int(per * 0.8), val_end=int(per * 0.9), length=per)
    arrays.append(SeriesArrays(f"s{{i}}", np.zeros(0), x, z, z, z, b))
raw_mb = sum(a.x.nbytes for a in arrays) / 2**20
t0 = time.perf_counter()
stack = StackedSeries(arrays, horizon)
ends = window_ends(stack, arrays, "train", window, stride=1)
ds = WindowBatches(stack, ends, window, "train", burn_in=8)
built = time.perf_counter() - t0
n_batches = n_targets = 0
for x, y, ok in loader(ds, batch, shuffle=True):
    n_batches += 1
    n_targets += int(ok.sum())
iterated = time.perf_counter() - t0 - built
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"base_mb": base, "peak_mb": peak, "peak_before_mb": peak_before,
                  "raw_mb": raw_mb, "windows": len(ds), "batches": n_batches,
                  "targets": n_targets, "build_s": built, "iterate_s": iterated}}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=16)
    p.add_argument("--window", type=int, default=64)
    p.add_argument("--horizon", type=int, default=5)
    p.add_argument("--series", type=int, nargs="+", default=[1, 8],
                   help="split the rows into this many series (one run each; >1 copies X once)")
    p.add_argument("--batch", type=int, default=128, help="training.batch_size default")
    args = p.parse_args()
    for n in args.series:
        measure(argparse.Namespace(**{**vars(args), "series": n}))


def measure(args: argparse.Namespace) -> None:
    """One fresh subprocess: build and iterate, then print peak RSS vs the raw array."""
    code = CHILD.format(root=str(ROOT), **vars(args))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    used = r["peak_mb"] - r["base_mb"]
    naive = r["windows"] * args.window * args.features * 4 / 2**20
    print(f"{args.rows:,} rows x {args.features} features in {args.series} series, window "
          f"{args.window}: {r['windows']:,} training windows, {r['batches']} batches, "
          f"{r['targets']:,} targets")
    print(f"raw float32 array            {r['raw_mb']:8.1f} MB")
    print(f"peak RSS above baseline      {used:8.1f} MB  (baseline {r['base_mb']:.0f} MB after "
          f"imports; peak {r['peak_mb']:.0f} MB)")
    print(f"ratio peak / raw             {used / r['raw_mb']:8.2f}x  (target < 3x)")
    print(f"materialised windows would be {naive:,.0f} MB ({naive / r['raw_mb']:.0f}x)")
    print(f"build {r['build_s']:.2f}s, one pass over all batches {r['iterate_s']:.2f}s")


if __name__ == "__main__":
    main()
