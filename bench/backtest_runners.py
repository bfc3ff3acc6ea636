"""`lstmflow backtest --folds 4` on the bundled sample: folds one after the other next to folds
in parallel on the thread runner and on a local Dask cluster.

Each mode is one CLI run in its own process (Prefect's embedded API included), with the whole
machine for the run (runtime.concurrent_runs 1): wall time, peak RSS of the process tree and of
its largest process, peak threads, the summed fold time, and whether the per-fold metrics equal
the Dask run's (threads share torch's global generator: dropout masks then depend on how the
folds interleave). Modes:
  serial       1 fold at a time, as many torch threads as each parallel fold gets below
  serial-all   1 fold at a time, torch threads = all usable cores
  threads      folds in threads of the CLI process, cores / folds-at-once torch threads each
  dask         folds in local Dask worker processes, same split of the cores
  threads-2x   threads, but torch threads = all cores in every fold (oversubscribed)

Run: .venv/bin/python bench/backtest_runners.py [--modes serial,threads,dask] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from proctree import run_measured  # noqa: E402

from lstmflow.runtime import usable_cores  # noqa: E402


def modes(cores: int, folds: int) -> dict[str, list[str]]:
    par = max(1, min(folds, cores))
    per = max(1, cores // par)
    return {
        "serial": ["--runner", "thread", "--workers", "1", "--set", f"runtime.torch_threads={per}"],
        "serial-all": ["--runner", "thread", "--workers", "1", "--set",
                       f"runtime.torch_threads={cores}"],
        "threads": ["--runner", "thread", "--workers", str(par), "--set",
                    f"runtime.torch_threads={per}"],
        "dask": ["--runner", "dask", "--workers", str(par), "--set", f"runtime.torch_threads={per}"],
        "threads-2x": ["--runner", "thread", "--workers", str(par), "--set",
                       f"runtime.torch_threads={cores}"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"))
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--modes", default="serial,serial-all,threads,dask,threads-2x")
    ap.add_argument("--set", action="append", default=[], help="extra config overrides")
    args = ap.parse_args()
    cores = usable_cores()
    table = modes(cores, args.folds)
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    rows, folds = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.modes.split(","):
            out = Path(tmp) / name
            summary = out / "backtest.json"
            cmd = [sys.executable, "-m", "lstmflow.cli", "backtest", "--config", args.config,
                   "--folds", str(args.folds), "--set", "runtime.concurrent_runs=1",
                   "--set", f"output_dir={out}", "--summary-out", str(summary),
                   *table[name], *[a for s in args.set for a in ("--set", s)]]
            m = run_measured(cmd, env)
            if m.returncode != 0 or not summary.is_file():
                print(f"{name}: exit {m.returncode}\n{m.output[-3000:]}")
                continue
            s = json.loads(summary.read_text())
            folds[name] = [(f.get("metrics") or {}).get("model") for f in s["folds"]]
            rows.append((name, s["fan_out"]["text"], m, s["seconds"], s["folds_seconds"],
                         sum(f.get("seconds") or 0 for f in s["folds"])))
            print(f"{name}: done in {m.seconds:.1f}s", flush=True)
    base = next((r[3] for r in rows if r[0] == "serial"), None)
    print(f"\n{args.folds} folds of {Path(args.config).name} on {cores} usable cores "
          f"(load average before the last run: {os.getloadavg()[0]:.1f})")
    print(f"{'mode':<12}{'CLI wall s':>11}{'flow s':>8}{'folds s':>9}{'sum fold s':>11}"
          f"{'vs serial':>10}{'CPU s':>7}{'tree MB':>9}{'max proc MB':>12}{'threads':>8}"
          "  same folds as dask  runner")
    for name, text, m, flow_s, folds_s, fold_sum in rows:
        ratio = f"{flow_s / base:.2f}x" if base else "-"
        same = "-" if "dask" not in folds or name == "dask" else (
            "yes" if folds[name] == folds["dask"] else "no")
        print(f"{name:<12}{m.seconds:>11.1f}{flow_s:>8.1f}{folds_s:>9.1f}{fold_sum:>11.1f}"
              f"{ratio:>10}{m.cpu_seconds:>7.0f}{m.peak_tree_mb:>9.0f}{m.peak_process_mb:>12.0f}{m.peak_threads:>8}"
              f"  {same:<18}  {text}")


if __name__ == "__main__":
    main()
