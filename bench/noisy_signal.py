"""The controlled experiment behind `noisy_optimisation`: same config, several seeds, batch
sizes and learning rates; per fit, the signals a detector could read and the harm the noise did.

    .venv/bin/python bench/noisy_signal.py [--series co2,gasoline] [--seeds 3] [--out rows.jsonl]

Each fit is the series' config under the step budget the run chooses (bench/diagnosis_cases.py's
series); only batch size, learning rate and schedule differ. Harm: the fit's best validation
loss over the reference's (batch 64, rate 3e-3, the plateau schedule: the defaults' kind of fit),
median over seeds. Signals, per fit (the history's rows are validation checks):
  gsig   median grad_signal (mean g_t . g_t-1 / mean |g_t|^2) over the checks: ~1 clean, ~0 noise
  vjit   median |log v_k - (log v_k-1 + log v_k+1) / 2| of the val loss (a trend cancels)
  tjit   the same on the check-mean train loss
  cv     median batch-loss spread over the check's mean loss
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

from bench.diagnosis_cases import case_config, prepared  # noqa: E402
from lstmflow.core import Forecaster  # noqa: E402
from lstmflow.fit.diagnosis.noise import jitter  # noqa: E402
from lstmflow.fit.diagnosis.record import Run  # noqa: E402

# (batch, learning rate, schedule); the first is the reference
GRID = [(64, 0.003, "plateau"), (2, 0.03, "none"), (4, 0.03, "none"), (16, 0.03, "none"),
        (2, 0.01, "none"), (8, 0.01, "none"), (32, 0.01, "none"), (128, 0.01, "plateau"),
        (2, 0.003, "plateau"), (8, 0.003, "plateau"), (4, 0.05, "none")]


def signals(history: list[dict]) -> dict:
    curve = Run(history=history).curve  # the curves as the detectors read them
    val, tr = curve("val_loss"), curve("train_loss")
    return {"gsig": float(np.nanmedian(curve("grad_signal"))),
            "vjit": jitter(val), "tjit": jitter(tr),
            "cv": float(np.nanmedian(np.sqrt(curve("batch_loss_var")) / tr)),
            "best": float(np.nanmin(val)), "checks": len(history),
            "steps": int(history[-1]["step"]) if history else 0}


def fit(series: str, batch: int, lr: float, sched: str, seed: int, out: Path) -> dict:
    cfg, tail = case_config(series, [f"training.batch_size={batch}",
                                     f"training.learning_rate={lr}", f"training.scheduler={sched}",
                                     f"training.seed={seed}", "training.auto_repair=0"], out)
    prep, _ = prepared(cfg, tail, None)
    attempt = Forecaster(cfg).run(prep)
    names = [f["finding"] for f in attempt.findings if f["severity"] != "info"]
    return {"series": series, "batch": batch, "lr": lr, "sched": sched, "seed": seed,
            **signals(attempt.history), "findings": names,
            "val_rel": (attempt.metrics or {}).get("overall", {}).get("model", {}).get("rel_mae")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", default="co2,gasoline_short,sp500")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None, help="also write one JSON line per fit here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for series in args.series.split(","):
            rows = []
            for batch, lr, sched in GRID:
                for seed in range(args.seeds):
                    r = fit(series, batch, lr, sched, seed, Path(tmp))
                    rows.append(r)
                    if args.out:
                        with open(args.out, "a") as sink:
                            sink.write(json.dumps(r) + "\n")
            ref = np.median([r["best"] for r in rows if (r["batch"], r["lr"]) == GRID[0][:2]])
            print(f"\n{series}: reference best val {ref:.4g}")
            print(" batch      lr  sched    harm   gsig   vjit   tjit     cv  checks  findings")
            for r in rows:
                print(f"{r['batch']:>6} {r['lr']:>7} {r['sched']:>6} {r['best'] / ref:7.3f} "
                      f"{r['gsig']:6.3f} {r['vjit']:6.3f} {r['tjit']:6.3f} {r['cv']:6.3f} "
                      f"{r['checks']:>7}  {' '.join(r['findings'])}", flush=True)


if __name__ == "__main__":
    main()
