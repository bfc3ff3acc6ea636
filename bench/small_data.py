"""Small data, side by side: the whole `lstmflow train` on a daily series of a few thousand rows
against a default neuralforecast LSTM's fit + forecast of the same test origins (ratio <= 1 is
the target), with the run's wall time broken into start-up, gates, fits, evaluation and report.

    .venv/bin/python bench/small_data.py [--series FILE] [--reference /tmp/nfvenv/bin/python]

The run is `lstmflow init` then `lstmflow train` in fresh processes, as a user would; its parts
are read back from Prefect's own task runs of that flow run (the embedded API's database in a
temporary PREFECT_HOME), start-up is the process' wall time before the flow run started. The
reference runs bench/neuralforecast_ref.py in its own environment (see its docstring) with one
torch thread, like the run; its time covers fit and forecast but not its imports.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import bench_env, run  # noqa: E402

DATA = ROOT / "data" / "bench"
# task-name prefix: the part of the run it belongs to
PARTS = {"ingest": "ingest", "gate-": "gates", "short-series": "ingest", "snapshot": "ingest",
         "unchanged": "ingest", "split": "prepare", "preprocess": "prepare", "start": "first fit",
         "train": "first fit", "calibration": "first fit", "repair": "repair",
         "evaluate": "evaluation", "champion": "evaluation", "diagnose": "evaluation",
         "register": "register", "report": "report", "track": "tracking", "mirror": "tracking"}


async def task_seconds(flow_run_id: str) -> tuple[dict[str, float], float, float]:
    """Seconds per part of the run from Prefect's task runs, the flow run's own duration and
    its start as a Unix time."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter

    async with get_client() as client:
        flow_run = await client.read_flow_run(flow_run_id)
        tasks = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
            task_run_filter=TaskRunFilter())
    parts: dict[str, float] = {}
    for t in tasks:
        name = re.sub(r"-\d+$", "", t.name)
        part = next((v for k, v in PARTS.items() if name.startswith(k)), "other tasks")
        parts[part] = parts.get(part, 0.0) + t.total_run_time.total_seconds()
    return parts, flow_run.total_run_time.total_seconds(), flow_run.start_time.timestamp()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", default="us_births_daily.csv.gz", help="a file in data/bench")
    p.add_argument("--reference", help="a Python with neuralforecast (bench/neuralforecast_ref.py)")
    p.add_argument("--keep", metavar="DIR", help="keep the config and the run in DIR")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        env = bench_env(1, PREFECT_HOME=str(work / "prefect-home"))
        env.pop("PREFECT_API_URL", None)
        cfg, summary_path = work / "small.yaml", work / "small.summary.json"
        init_s = run([sys.executable, "-m", "lstmflow.cli", "init", "--data",
                      str(DATA / args.series), "--out", str(cfg), "--output-dir",
                      str(work / "out"), "--force"], env)[0]
        began = time.time()
        train_s = run([sys.executable, "-m", "lstmflow.cli", "train", "--config", str(cfg),
                       "--summary-out", str(summary_path)], env)[0]
        summary = json.loads(summary_path.read_text())
        os.environ.update(PREFECT_HOME=env["PREFECT_HOME"])
        parts, flow_s, flow_start = asyncio.run(task_seconds(summary["flow_run_id"]))
        ref = None
        if args.reference:
            r = subprocess.run([args.reference, str(ROOT / "bench" / "neuralforecast_ref.py"),
                                str(cfg)], env=env, capture_output=True, text=True, cwd=ROOT)
            if r.returncode != 0:
                sys.exit(f"reference failed:\n{r.stderr[-3000:]}")
            ref = r.stdout.strip().splitlines()[-1]
    t, m = summary["training"], summary["metrics"]
    startup = flow_start - began
    rel = m["model"]["mae"] / m["seasonal_naive"]["mae"]
    print(f"{args.series}: {summary['config']['data']['freq']} data, horizon "
          f"{summary['config']['forecast']['horizon']}, {m['model']['points']} test points")
    print(f"lstmflow init {init_s:.1f} s; lstmflow train {train_s:.1f} s wall, of which:")
    print(f"  start-up (imports, Prefect's API) {startup:.1f} s")
    for part, s in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {part:<34}{s:.1f} s")
    rest = train_s - startup - sum(parts.values())
    print(f"  {'flow outside tasks and shutdown':<34}{rest:.1f} s  (flow run {flow_s:.1f} s)")
    tried = ", ".join(f"{a['attempt']}: {a['secs']:.1f} s ({a.get('start')})"
                      for a in summary.get("attempts") or [])
    print(f"  attempts {tried or 'one fit'}; the chosen one trained {t['seconds']:.1f} s, "
          f"{t.get('steps_run')} steps in all; rel MAE vs seasonal naive {rel:.3f}")
    out = {"series": args.series, "init_s": init_s, "train_s": train_s, "startup_s": startup,
           "parts": parts, "flow_s": flow_s, "fit_s": t["seconds"], "rel_mae_snaive": rel}
    if ref:
        nf_s = float(re.search(r": (\d+(?:\.\d+)?) s, rel MAE", ref).group(1))
        print(f"reference: {ref}")
        print(f"ratio lstmflow train wall / neuralforecast fit+forecast: {train_s / nf_s:.2f}")
        out.update(reference=ref, nf_s=nf_s, ratio=train_s / nf_s)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
