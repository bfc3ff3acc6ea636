"""`lstmflow tune` against the config it starts from: on the bundled stock sample and on weekly
CO2 (a second real series), the default config's validation error next to the best of a
20-trial study, the wall time, and how many trials were pruned and why.

Both sides are scored by the same objective (validation MAE in original units over naive's,
geometric mean over series; the test part is never read) on the same series, with the same
per-trial budget (tune.max_steps, tune.max_time_minutes): the default config is one more
"trial" with its own hyperparameters. Each case runs the tune flow (Prefect's embedded API) on
the thread runner, `--workers` trials at once with one torch thread each, in a fresh study.

Run: .venv/bin/python bench/tune.py [--cases sample,co2] [--trials 20] [--workers 2]
     [--set KEY=VALUE ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = {  # name -> (config, overrides)
    "sample": ("configs/default.yaml", []),
    "co2": ("configs/co2.yaml", []),
}


def default_score(cfg, frames) -> dict:
    """The objective of the config as it is (capped like a trial), on the tune's frames."""
    from lstmflow.tune.objective import Stopped, evaluate
    from lstmflow.tune.space import capped

    start = time.perf_counter()
    try:
        out = evaluate(frames, capped(cfg, 1))
        value, note = out.value, None
    except Stopped as exc:
        value, note = None, exc.reason
    return {"value": value, "note": note, "seconds": round(time.perf_counter() - start, 1)}


def run_case(name: str, trials: int, workers: int, sets: list[str], out: Path) -> dict:
    from flows.tune import tune_flow
    from lstmflow.config import load_config
    from lstmflow.data.ingest import drop_short_series, ingest
    from lstmflow.tune.frames import tune_frames, tune_rows

    path, own = CASES[name]
    cfg = load_config(ROOT / path, [f"data.path={ROOT / load_config(ROOT / path).data.path}",
                                    f"output_dir={out / name}", f"tune.trials={trials}",
                                    f"tune.study=bench-{name}", "runtime.concurrent_runs=1",
                                    f"runtime.workers={workers}", "runtime.torch_threads=1",
                                    *own, *sets])
    frame = ingest(cfg.data).frame
    frame, _ = drop_short_series(frame, tune_rows(cfg)[0], cfg.data.short_series, cfg.data.path)
    base = default_score(cfg, tune_frames(frame, cfg))
    print(f"{name}: default config {base}", flush=True)
    start = time.perf_counter()
    state = tune_flow(cfg, run_id="bench", return_state=True)
    wall = time.perf_counter() - start
    summary = json.loads((out / name / "runs" / "bench" / "tune.json").read_text())
    trials_ = summary["trials"]
    states = Counter(t["state"] for t in trials_)
    reasons = Counter(t.get("finding") or "error" for t in trials_
                      if t["state"] in ("pruned", "fail"))
    best = summary.get("best") or {}
    return {
        "case": name, "flow": state.name, "default": base, "best": best.get("value"),
        "best_params": best.get("params"), "best_trial": best.get("number"),
        "ratio": (best["value"] / base["value"]) if best and base["value"] else None,
        "wall_s": round(wall, 1), "states": dict(states), "pruned_by": dict(reasons),
        "importances": summary.get("importances"),
        "pruned": [(t["number"], t["reason"][:200]) for t in trials_ if t["state"] != "complete"],
    }


def _num(v) -> str:
    return "-" if v is None else f"{v:.4g}"


def main() -> None:
    import torch

    from lstmflow.cli.common import prefect_env

    prefect_env()  # as the CLI: no telemetry, a 90 s start-up timeout for the embedded API
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cases", default="sample,co2")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            rows.append(run_case(name, args.trials, args.workers, args.set, Path(tmp)))
            print(json.dumps(rows[-1], indent=1, default=str), flush=True)
    print(f"\n{'case':<8}{'default':>10}{'tuned':>10}{'tuned/def':>11}{'wall s':>9}  "
          "trials; pruned by")
    for r in rows:
        d, b, q = r["default"]["value"], r["best"], r["ratio"]
        print(f"{r['case']:<8}{_num(d):>10}{_num(b):>10}{_num(q):>11}{r['wall_s']:>9}  "
              f"{r['states']}; {r['pruned_by']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
