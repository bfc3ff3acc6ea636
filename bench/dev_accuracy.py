"""Rel MAE of the default pipeline on development series (not the bench ones): choose defaults here.

For each CSV under /work/research/data (see /work/research/datasets.md) it runs `lstmflow init`
once (configs cached in --work) and `lstmflow train` once per variant (a variant is a list of
`--set` overrides), and prints MAE / seasonal-naive MAE on the run's test points.

    .venv/bin/python bench/dev_accuracy.py --series taylor_halfhourly ... \
        --variant base= --variant cum=model.cumulative_target=true [--cap-minutes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DEV = Path(os.environ.get("LSTMFLOW_DEV_DATA", "/work/research/data"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="+", required=True)
    p.add_argument("--variant", action="append", required=True,
                   help="NAME=key=value,key=value (empty after NAME= for the defaults)")
    p.add_argument("--work", default="/tmp/lstmflow_dev")
    p.add_argument("--cap-minutes", type=float, default=None, help="training.max_time_minutes")
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    py = [sys.executable, "-m", "lstmflow.cli"]
    for name in args.series:
        cfg = work / f"{name}.yaml"
        if not cfg.exists():
            subprocess.run([*py, "init", "--data", str(DEV / f"{name}.csv"), "--out", str(cfg),
                            "--output-dir", str(work / "out"), "--force"], env=env, check=True,
                           capture_output=True)
        for spec in args.variant:
            vname, _, sets = spec.partition("=")
            sets = [s for s in sets.split(",") if s]
            if args.cap_minutes:
                sets.append(f"training.max_time_minutes={args.cap_minutes}")
            out = work / f"{name}.{vname}.json"
            t0 = time.perf_counter()
            r = subprocess.run([*py, "train", "--config", str(cfg), "--summary-out", str(out),
                                *[a for s in sets for a in ("--set", s)]], env=env,
                               capture_output=True, text=True)
            secs = time.perf_counter() - t0
            if not out.exists():
                print(f"{name:<28}{vname:<12} failed rc={r.returncode}: {r.stderr[-400:]}", flush=True)
                continue
            m = json.loads(out.read_text()).get("metrics") or {}
            if "model" not in m:
                print(f"{name:<28}{vname:<12} no metrics rc={r.returncode}", flush=True)
                continue
            s = m["seasonal_naive"]["mae"]
            alone = (m.get("blend") or {}).get("mae_model_alone") or m["model"]["mae"]
            print(f"{name:<28}{vname:<12} rel {m['model']['mae'] / s:6.3f}  alone "
                  f"{alone / s:6.3f}  naive {m['naive']['mae'] / s:6.3f}  {secs:5.0f}s", flush=True)


if __name__ == "__main__":
    main()
