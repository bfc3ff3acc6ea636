"""Inputs known ahead, before/after on the same points: `lstmflow init` + `lstmflow train` on real
daily or finer series with holiday effects, once as init writes the config and once with what is
known ahead (the country's public holidays, `features.holidays_country`; a 0/1 working-day flag
moved to `data.known_covariates`), each run scored on the same test points (bench/accuracy.py
checks that seasonal naive's MAE matches) beside ridge on lags; several seeds, since one fit's
seed spread is a few percent. Every run trains cold (`training.warm_start=never`): the runs share
one output folder, and a later seed would otherwise start from an earlier seed's champion.

    .venv/bin/python bench/known_ahead.py [--series NAME ...] [--seeds 42 7] [--json OUT]

rel MAE = MAE / seasonal-naive MAE on the run's test points; `gain` = 1 - after / before.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import DATA, bench_env, bench_one, work_dir  # noqa: E402

# name: (file, what it is, what is known ahead: the `--set`s of the "after" run). (The hourly
# pizza orders of data/domains/ were tried: init finds no training window in its open hours.)
SERIES = {
    "us_births_daily": (DATA / "us_births_daily.csv.gz", "daily US births 2000-2014",
                        ["features.holidays_country=US"]),
    "vic_elec_2014_halfhourly": (DATA / "vic_elec_2014_halfhourly.csv.gz",
                                 "half-hourly electricity demand, Victoria, with a workday flag",
                                 ["data.covariates=[temperature]", "data.known_covariates=[workday]",
                                  "features.holidays_country=AU", "features.holidays_subdivision=VIC"]),
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="*", choices=list(SERIES), default=list(SERIES))
    p.add_argument("--seeds", nargs="*", type=int, default=[42, 7])
    p.add_argument("--keep", metavar="DIR")
    p.add_argument("--json")
    args = p.parse_args()
    env, rows = bench_env(1), []
    with work_dir(args.keep) as work:
        for name in args.series:
            path, what, known = SERIES[name]
            for seed in args.seeds:
                row = {"series": name, "seed": seed, "known": known}
                for label, extra in (("before", []), ("after", known)):
                    r = bench_one(f"{name}_{label}_{seed}", work, False,
                                  [f"training.seed={seed}", "training.warm_start=never", *extra],
                                  env, (path, what))
                    row[label] = r["rel_mae"]["lstmflow"]
                    row["ridge"] = r["rel_mae"]["ridge"]
                    row[f"{label}_s"] = r["seconds"]["train"]
                row["gain"] = 1 - row["after"] / row["before"]
                rows.append(row)
                print(f"{name} seed {seed}: rel MAE {row['before']:.3f} -> {row['after']:.3f} "
                      f"(gain {row['gain']:+.1%}), ridge {row['ridge']:.3f}", flush=True)
    print(f"\n{'series':<22}{'seed':>6}{'before':>9}{'after':>9}{'gain':>8}{'ridge':>8}")
    for r in rows:
        print(f"{r['series']:<22}{r['seed']:>6}{r['before']:>9.3f}{r['after']:>9.3f}"
              f"{r['gain']:>+8.1%}{r['ridge']:>8.3f}")
    for name in args.series:
        g = [r["gain"] for r in rows if r["series"] == name]
        if g:
            print(f"{name}: mean gain {sum(g) / len(g):+.1%} over {len(g)} seeds; geometric mean "
                  f"after/before {math.exp(sum(math.log(1 - x) for x in g) / len(g)):.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
