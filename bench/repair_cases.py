"""Induce training pathologies on real series and print what automatic repair makes of them.

    .venv/bin/python bench/repair_cases.py [--series co2,seattle_temp_hourly] [--cases ...]
                                           [--rounds 2]

Each case (bench/diagnosis_cases.py's CASES on its series) is a real Lightning fit with
`training.auto_repair` rounds of repair (lstmflow.fit.repair, plain functions, no Prefect). Per
case: the first fit's worst finding on validation, the attempt repair chose, validation loss
(scaled units) and validation rel MAE (MAE over naive's, original units: the choice score)
before and after, the test rel MAE before and after (read here only, after the choice), whether
the case ends healthy or better on validation (see BETTER), and the seconds all attempts took.
The summary counts the cases that end with a lower validation rel MAE, of all with a problem and
of those the pathology harmed (first fit above `--harm` x the series' reference: the better of
its healthy and default fits without repair, two more fits a series).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)

from bench.diagnosis_cases import (  # noqa: E402
    case_config,
    case_overrides,
    series_configs,
    series_frame,
)
from lstmflow.core import Fitted, Forecaster  # noqa: E402
from lstmflow.repair.candidates import PROBLEMS  # noqa: E402
from lstmflow.repair.policy import repair  # noqa: E402

HARM = 0.02  # 'harmed': first fit's validation rel MAE over 1.02x the series' reference
BETTER = 0.05  # 'better': validation rel MAE at least 5% below the first fit's (else 'marginal')
DEFAULT_CASES = ("divergence,exploding,vanishing,overfitting,underfitting,plateau,noisy,shift_x3,"
                 "collapse,short_context,not_converged")


def load(series: str, case: str, rounds: int, out: Path):
    """The case's config with `rounds` of repair, and its data as the flow prepares it."""
    cfg, tail = case_config(series, [*case_overrides(series, case),
                                     f"training.auto_repair={rounds}"], out)
    frame = series_frame(cfg, tail)
    forecaster = Forecaster(cfg)
    bounds = forecaster.split(frame)
    return cfg, frame, bounds, forecaster.prepare(frame, bounds)


def test_rel_mae(a) -> float | None:
    """An attempt's test rel MAE (geometric mean over series), None without a usable model."""
    if not a.usable:
        return None
    alone = Fitted(a.cfg, a.fit.model, a.prepared.state)  # the model alone, as repair judges
    m = Forecaster(a.cfg).evaluate(alone, a.prepared).metrics
    return m["overall"]["model"]["rel_mae"]


def run_case(series: str, case: str, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg, frame, bounds, prep = load(series, case, rounds, Path(tmp))
        start = time.perf_counter()
        first = Forecaster(cfg).fit(prep, log=lambda _: None, run_dir=Path(tmp))
        rep = repair(first, frame, bounds, Path(tmp), log=lambda _: None)
        secs = time.perf_counter() - start
        a0, best = rep.attempts[0], rep.best
        problems = [f["finding"] for f in a0.findings if f["severity"] in PROBLEMS]
        healthy = best.usable and best.healthy
        gain = (best.val["val_rel_mae"] / a0.val["val_rel_mae"]
                if best.index != a0.index and a0.val.get("val_rel_mae") else 1.0)
        better = (best.usable and not a0.usable) or gain <= 1 - BETTER
        return {"series": series, "case": case, "first": problems[0] if problems else "healthy",
                "chosen": f"{best.index}/{len(rep.attempts)}"
                          + (f" {best.remedy_for}" if best.remedy_for else ""),
                "val_loss": (a0.fit.best_val_loss if a0.fit else None,
                             best.fit.best_val_loss if best.fit else None),
                "val_rel": (a0.val.get("val_rel_mae"), best.val.get("val_rel_mae")),
                "test_rel": (test_rel_mae(a0), test_rel_mae(best)),
                "outcome": "healthy" if healthy else "better" if better
                           else "marginal" if gain < 1 else "not repaired",
                "stopped": rep.stopped, "secs": secs}


def _pair(v: tuple) -> str:
    return " -> ".join("-" if x is None else f"{x:.3g}" for x in v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", default="co2,gasoline,sp500,vic_elec,minneapolis,births")
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--harm", type=float, default=HARM,
                    help="a case counts as harmed when its first fit's validation rel MAE is "
                         "this much above the series' reference (the better of its healthy and "
                         "default fits, no repair)")
    args = ap.parse_args()
    available = series_configs()
    rows, refs = [], {}
    print("| series | case | first finding | chosen (of n) | val loss | val rel MAE | "
          "test rel MAE | outcome | stopped | s |")
    print("|---|---|---|---|---|---|---|---|---|---:|")
    for series in args.series.split(","):
        if series not in available:
            print(f"(skipped {series}: no data)")
            continue
        refs[series] = min(run_case(series, c, 0)["val_rel"][0] for c in ("healthy", "default"))
        for case in args.cases.split(","):
            r = run_case(series, case, args.rounds)
            rows.append(r)
            print(f"| {r['series']} | {r['case']} | {r['first']} | {r['chosen']} | "
                  f"{_pair(r['val_loss'])} | {_pair(r['val_rel'])} | {_pair(r['test_rel'])} | "
                  f"{r['outcome']} | {r['stopped']} | {r['secs']:.0f} |", flush=True)
    sick = [r for r in rows if r["first"] != "healthy"]
    fixed = [r for r in sick if r["outcome"] in ("healthy", "better")]
    lower = [r for r in sick if r["val_rel"][1] is not None
             and (r["val_rel"][0] is None or r["val_rel"][1] < r["val_rel"][0])]
    print(f"\n{len(lower)} of {len(sick)} cases whose first fit had a problem end with a lower "
          "validation rel MAE (any amount) or a usable model where the first fit had none.")
    harmed = [r for r in sick if r["val_rel"][0] is None
              or r["val_rel"][0] > (1 + args.harm) * refs[r["series"]]]
    print(f"\n{sum(r in lower for r in harmed)} of {len(harmed)} cases the pathology harmed (first "
          f"validation rel MAE over {1 + args.harm:g}x the series' reference: "
          + ", ".join(f"{k} {v:.3g}" for k, v in refs.items()) + ") end lower.")
    print(f"\n{len(fixed)} of {len(sick)} cases whose first fit had a problem end healthy or "
          f"better (validation rel MAE at least {BETTER:.0%} lower, or a usable model where the "
          f"first fit had none) on validation (auto_repair={args.rounds}).")


if __name__ == "__main__":
    main()
