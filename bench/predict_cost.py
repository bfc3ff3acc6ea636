"""Where the time of `lstmflow predict` goes: start-up imports, each step, and the Prefect flow
with its temporary API server against the plain path the CLI takes without a server.

    .venv/bin/python bench/predict_cost.py [--config configs/default.yaml] [--repeat 3]

Needs a champion in the config's registry (`make run` first). Every number is the best of
`--repeat` runs in fresh processes, printed next to the start-up of a bare `python -c pass`
measured in the same run (the machine's speed at that moment).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
LSTMFLOW = str(Path(PY).parent / "lstmflow")
IMPORTS = ["pandas", "torch", "safetensors.torch", "great_expectations", "prefect",
           "pytorch_lightning", "sklearn.preprocessing", "lstmflow.cli",
           "lstmflow.serve.predict", "expectations.report", "flows.predict"]
STEPS = """
import sys, time, torch
torch.set_num_threads(1)
from pathlib import Path
from lstmflow.config import load_config
from lstmflow.data.ingest import ingest
from lstmflow.serve.predict import champion_for, check_fit, forecast, write_forecasts
from expectations.report import ingested_gate
cfg = load_config(sys.argv[1]); t = time.perf_counter(); marks = []
def mark(name):
    global t
    now = time.perf_counter(); marks.append((name, now - t)); t = now
champ = champion_for(cfg); mark("load + verify the champion")
data = ingest(champ.cfg.data); mark("ingest")
check_fit(data, champ); mark("check the fit")
ingested_gate(data.frame, champ.cfg, data.report, Path(sys.argv[2])); mark("ingested gate (GE)")
table, _ = forecast(champ, data.frame); mark("prepare with the stored state + forecast")
write_forecasts(table, Path(sys.argv[2]) / "f.parquet"); mark("write Parquet")
for name, s in marks: print(f"{name}\\t{s:.3f}")
"""


def best(cmd: list[str], repeat: int, env: dict | None = None) -> float:
    """Best wall time of `cmd` over `repeat` fresh processes (it must exit 0)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - start)
        if out.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/default.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", OMP_NUM_THREADS="1")
    ref = best([PY, "-c", "pass"], args.repeat, env)
    print(f"reference: python -c pass {ref:.2f} s (os.getloadavg {os.getloadavg()[0]:.1f})\n")
    print(f"{'import (fresh process, minus the reference)':<48}{'s':>7}")
    for mod in IMPORTS:
        print(f"  {mod:<46}{best([PY, '-c', f'import {mod}'], args.repeat, env) - ref:>7.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([PY, "-c", STEPS, args.config, tmp], cwd=ROOT, capture_output=True,
                             text=True, env=env)
        if out.returncode != 0:
            raise SystemExit(f"the steps failed (is there a champion? `make run`):\n{out.stderr[-3000:]}")
        print(f"\n{'step (one process, after its imports)':<48}{'s':>7}")
        for line in out.stdout.splitlines():
            name, s = line.split("\t")
            print(f"  {name:<46}{float(s):>7.2f}")
        target = str(Path(tmp) / "cli.parquet")
        plain = best([LSTMFLOW, "predict", "--config", args.config, "--out", target],
                     args.repeat, env)
        flow = best([LSTMFLOW, "predict", "--config", args.config, "--out", target, "--flow"],
                    args.repeat, env)
    print(f"\n{'end to end (wall, including start-up)':<48}{'s':>7}{'x ref':>8}")
    for name, s in (("lstmflow predict (plain path, no API server)", plain),
                    ("lstmflow predict --flow (temporary API server)", flow)):
        print(f"  {name:<46}{s:>7.2f}{s / ref:>8.1f}")
    print(f"  flow / plain: {flow / plain:.2f}x")


if __name__ == "__main__":
    main()
