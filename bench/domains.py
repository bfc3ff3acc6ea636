"""New domains, kept honest: `lstmflow init` + `lstmflow train` as a user would run them on real
public series from domains the code was never tuned on (data/domains/, provenance in its
README), each scored on exactly the run's test points beside seasonal naive, naive and ridge on
lags (bench/accuracy.py's scorer), and beside a statsforecast model (AutoETS, MSTL over season
12) on the (origin, step) pairs both forecast (bench/conformal_ref.py, first series of a panel).

Half the series are `design` (defaults may be chosen on them), half `held-out`: never tune on
those, report them separately (data/domains/README.md says which, and why they were split so).

    .venv/bin/python bench/domains.py [--half design|held-out] [--reference /tmp/sfvenv/bin/python]
                                      [--set KEY=VALUE ...] [--keep DIR] [--json OUT]

rel MAE = MAE / seasonal-naive MAE on the same points; the geometric mean over the series of a
half is the summary figure. A series whose run is refused prints the refusal instead.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import bench_env, bench_one, work_dir  # noqa: E402

DATA = ROOT / "data" / "domains"
# name: (half, what it is); files are data/domains/<name>.csv.gz
INIT_ARGS = {  # what a user tells `lstmflow init` after its first refusal, nothing more
    "nyc_airport_temp_hourly": ("--target", "temp"),  # init: "several numeric columns ..."
}
DOMAINS = {
    "pr_deaths_daily": ("design", "daily deaths in Puerto Rico, a hurricane in the test year"),
    "pizza_orders_hourly": ("design", "hourly orders of one pizza place, open hours only"),
    "txhousing_monthly": ("design", "monthly home sales, panel of 46 Texas cities"),
    "canadian_gas_monthly": ("design", "monthly gas production, Canada"),
    "nyc_airport_temp_hourly": ("held-out", "hourly temperature, 3 NYC airports + humidity"),
    "melbourne_tmax_daily": ("held-out", "daily maximum temperature, Melbourne"),
    "loti_monthly": ("held-out", "monthly global land-ocean temperature anomaly"),
    "aus_departures_monthly": ("held-out", "monthly departures from Australia, panel of 5 kinds"),
}


def reference(run_dir: Path, python: str, work: Path) -> dict | None:
    """statsforecast's point forecasts on the run's test origins (None when it failed)."""
    out = work / f"{run_dir.name}.ref.json"
    r = subprocess.run([python, str(ROOT / "bench" / "conformal_ref.py"), str(run_dir), str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        print(f"  statsforecast failed: {r.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    ref = json.loads(out.read_text())
    mae = ref["point_mae"]
    return {"model": ref["model"], "points": ref["points"], "seconds": ref["seconds"],
            "rel": mae["statsforecast"] / mae["seasonal_naive"],
            "lstmflow_rel": mae["lstmflow"] / mae["seasonal_naive"]}


def one(name: str, work: Path, extra: list[str], env: dict, python: str | None) -> dict:
    half, what = DOMAINS[name]
    try:
        r = bench_one(name, work, False, extra, env, (DATA / f"{name}.csv.gz", what),
                      INIT_ARGS.get(name, ()))
    except SystemExit as exc:  # bench_one exits on a failed command, with its stderr
        lines = [x for x in str(exc).splitlines() if "error" in x.lower()]
        return {"series": name, "half": half, "what": what, "refused": (lines or [str(exc)])[-1]}
    r["half"] = half
    if python:
        summary = json.loads((work / f"{name}.summary.json").read_text())
        r["statsforecast"] = reference(Path(summary["run_dir"]), python, work)
    return r


def gmean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def report(rows: list[dict]) -> None:
    print("\nrel MAE = MAE / seasonal-naive MAE on the run's test points (statsforecast and "
          "'ours there': the points both forecast, first series)")
    print(f"{'series':<26}{'half':>9}{'freq':>6}{'H':>4}{'points':>8}{'lstmflow':>9}{'ridge':>7}"
          f"{'naive':>7}{'sf model':>9}{'sf':>7}{'ours there':>11}{'train s':>8}")
    for r in rows:
        if "refused" in r:
            print(f"{r['series']:<26}{r['half']:>9}  refused: {r['refused']}")
            continue
        rel, sf = r["rel_mae"], r.get("statsforecast") or {}
        print(f"{r['series']:<26}{r['half']:>9}{r['freq']:>6}{r['horizon']:>4}{r['points']:>8}"
              f"{rel['lstmflow']:>9.3f}{rel['ridge']:>7.3f}{rel['naive']:>7.3f}"
              f"{sf.get('model', '-'):>9}{_num(sf.get('rel')):>7}{_num(sf.get('lstmflow_rel')):>11}"
              f"{r['seconds']['train']:>8.0f}")
    for half in ("design", "held-out"):
        done = [r for r in rows if r["half"] == half and "refused" not in r]
        if done:
            wins = sum(r["rel_mae"]["lstmflow"] < r["rel_mae"]["ridge"] for r in done)
            print(f"{half}: geometric mean rel MAE lstmflow "
                  f"{gmean([r['rel_mae']['lstmflow'] for r in done]):.3f}, ridge "
                  f"{gmean([r['rel_mae']['ridge'] for r in done]):.3f}; lstmflow ahead of ridge "
                  f"on {wins} of {len(done)}")


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="*", choices=list(DOMAINS))
    p.add_argument("--half", choices=("design", "held-out"))
    p.add_argument("--set", action="append", default=[], help="extra override for train")
    p.add_argument("--reference", metavar="PYTHON", help="an interpreter with statsforecast")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--keep", metavar="DIR")
    p.add_argument("--json")
    args = p.parse_args()
    names = args.series or [n for n, (h, _) in DOMAINS.items() if args.half in (None, h)]
    env = bench_env(args.threads)
    rows = []
    with work_dir(args.keep) as work:
        for name in names:
            rows.append(one(name, work, args.set, env, args.reference))
            print(f"{name}: {'refused' if 'refused' in rows[-1] else 'done'}", file=sys.stderr,
                  flush=True)
    report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()
