"""How the calibrated intervals hold on real series the project never tuned on: `lstmflow init`
+ `lstmflow train` as a user runs them, then per level the test coverage, mean width and
interval score from summary.json, against the binomial tolerance of the number of independent
test origins (the `miscalibrated` finding's rule), and what calibrating cost.

With `--reference PYTHON` (an interpreter with statsforecast, e.g. /tmp/sfvenv/bin/python) the
same test points are forecast by statsforecast's AutoETS with its ConformalIntervals
(bench/conformal_ref.py) and scored the same way.

    .venv/bin/python bench/intervals.py [--series NAME ...] [--reference PY] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import bench_env, work_dir  # noqa: E402
from bench.accuracy import run as accuracy_run  # noqa: E402

DATA = ROOT / "data" / "bench"
SERIES = {  # name: (file, what it is)
    "vic_elec_2014_halfhourly": ("vic_elec_2014_halfhourly.csv.gz", "half-hourly demand"),
    "minneapolis_temp_hourly": ("minneapolis_temp_hourly.csv.gz", "hourly temperature, gaps"),
    "sp500_daily": ("sp500_daily.csv.gz", "daily index, holidays as gaps"),
    "gasoline_weekly": ("gasoline_weekly.csv.gz", "weekly US gasoline supplied"),
    "usmelec_monthly": ("usmelec_monthly.csv.gz", "monthly US electricity generation"),
}


def run(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds the command took (bench/accuracy.py's runner: its output kept, exit on failure)."""
    return accuracy_run(cmd, env)[0]


def tolerance(nominal: float, points: int, steps: int) -> float:
    """The miscalibrated finding's tolerance: 1.96 binomial standard errors over the
    independent forecast paths (calibrated.independent)."""
    from lstmflow.fit.diagnosis.calibrated import independent
    from lstmflow.fit.diagnosis.calibrated import tolerance as tol

    return tol(nominal, independent(points, max(steps, 1)))


def bench_one(name: str, work: Path, env: dict[str, str], reference: str | None) -> dict:
    summary_path = work / f"{name}.summary.json"
    kept = work / f"{name}.bench.json"  # a run measured before (--keep): only the reference left
    out = json.loads(kept.read_text()) if kept.is_file() else measure(name, work, env)
    kept.write_text(json.dumps(out, indent=2))
    if reference:
        run_dir = Path(json.loads(summary_path.read_text())["run_dir"])
        ref_json = work / f"{name}.reference.json"
        if not ref_json.is_file():
            run([reference, str(ROOT / "bench" / "conformal_ref.py"), str(run_dir),
                 str(ref_json)], env)
        out["reference"] = json.loads(ref_json.read_text())
    return out


def measure(name: str, work: Path, env: dict[str, str]) -> dict:
    """`lstmflow init` + `lstmflow train` on the series, its intervals' scores and costs."""
    file, what = SERIES[name]
    cfg_path, summary_path = work / f"{name}.yaml", work / f"{name}.summary.json"
    init_s = run([sys.executable, "-m", "lstmflow.cli", "init", "--data", str(DATA / file),
                  "--out", str(cfg_path), "--output-dir", str(work / "out"), "--force"], env)
    train_s = run([sys.executable, "-m", "lstmflow.cli", "train", "--config", str(cfg_path),
                   "--summary-out", str(summary_path), "--force"], env)
    summary = json.loads(summary_path.read_text())
    cal = summary["metrics"]["calibration"]
    cfg = summary["config"]
    out = {"series": name, "what": what, "freq": cfg["data"]["freq"],
           "horizon": cfg["forecast"]["horizon"], "method": cal["method"],
           "calibration_s": summary["training"].get("calibration_seconds"),
           "fit_s": summary["training"]["seconds"],
           "init_s": init_s, "train_s": train_s,
           "findings": [f["finding"] for f in summary["diagnosis"] if f["severity"] != "info"],
           "levels": {}}
    for level, v in cal["levels"].items():
        tol = tolerance(v["nominal"], v["points"], cfg["forecast"]["horizon"])
        out["levels"][level] = {k: v[k] for k in ("nominal", "coverage", "width",
                                                  "width_scaled", "interval_score",
                                                  "interval_score_scaled", "points")}
        out["levels"][level]["tolerance"] = tol
    return out


def print_table(results: list[dict]) -> None:
    print(f"\n{'series':<26}{'freq':>6}{'H':>4}{'level':>6}{'points':>8}{'coverage':>10}"
          f"{'+-tol':>7}{'ok':>4}{'width/MASE':>11}{'IS/MASE':>9}   reference (statsforecast "
          "conformal): coverage width/MASE IS/MASE | lstmflow on the same points")
    for r in results:
        for level, v in r["levels"].items():
            ok = abs(v["coverage"] - v["nominal"]) <= v["tolerance"]
            ref = (r.get("reference") or {}).get("levels", {}).get(level)
            ours = (r.get("reference") or {}).get("lstmflow", {}).get(level)
            shown = (f"   {ref['coverage']:.3f} {ref['width_scaled']:.3g} "
                     f"{ref['interval_score_scaled']:.3g} | ours there {ours['coverage']:.3f} "
                     f"{ours['width_scaled']:.3g} {ours['interval_score_scaled']:.3g} "
                     f"({r['reference']['points']} points)" if ref else "")
            print(f"{r['series']:<26}{r['freq']:>6}{r['horizon']:>4}{level:>6}{v['points']:>8}"
                  f"{v['coverage']:>10.3f}{v['tolerance']:>7.3f}{'yes' if ok else 'no':>4}"
                  f"{_num(v['width_scaled']):>11}{_num(v['interval_score_scaled']):>9}{shown}")
    print("\ncoverage: share of test actuals inside the interval; +-tol: 1.96 binomial standard "
          "errors over the independent test origins (points / H); width/MASE and IS/MASE: mean "
          "width and interval (Winkler) score over each series' in-sample seasonal-naive MAE")
    for r in results:
        share = r["calibration_s"] / r["fit_s"] if r["calibration_s"] and r["fit_s"] else None
        print(f"{r['series']}: {r['method']}, calibration {r['calibration_s']} s = "
              f"{_pct(share)} of the fit ({r['fit_s']:.1f} s); findings: "
              f"{', '.join(r['findings']) or 'none'}")


def _num(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.3g}"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="*", choices=list(SERIES), default=list(SERIES))
    p.add_argument("--reference", help="a Python with statsforecast (bench/conformal_ref.py)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--keep", metavar="DIR", help="keep configs, summaries and runs in DIR")
    args = p.parse_args()
    env = bench_env(args.threads)
    results = []
    with work_dir(args.keep) as work:
        for name in args.series:
            results.append(bench_one(name, work, env, args.reference))
            print(f"{name}: done", file=sys.stderr, flush=True)
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
