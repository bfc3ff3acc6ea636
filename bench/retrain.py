"""Nightly retraining, cold against warm: on real series with signal, a first night trains as a
user would (`lstmflow init` + `lstmflow train`), then 7 simulated nights each append the next
slice of a held-back week (a day of rows for sub-daily data, one row otherwise) and retrain
twice into separate registries: cold (training.warm_start=never) and warm (auto, from that
registry's champion). Per night: the whole `train` process's wall time, the fit time, the
validation and test MAE over naive's and whether the model was promoted; per series, the
automatic repair's cost on night 0 (every attempt's fit time over the first fit's).

    .venv/bin/python bench/retrain.py [--series NAME ...] [--nights 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import bench_env, work_dir  # noqa: E402
from bench.accuracy import run as accuracy_run  # noqa: E402

DATA = ROOT / "data" / "bench"
# name: (file, rows kept from the end before holding back, rows appended a night)
SERIES = {
    "vic_elec_2014_halfhourly": ("vic_elec_2014_halfhourly.csv.gz", None, 48),
    "minneapolis_temp_hourly": ("minneapolis_temp_hourly.csv.gz", 15000, 24),
    "gasoline_weekly": ("gasoline_weekly.csv.gz", None, 1),
}


def run(cmd: list[str], env: dict[str, str]) -> float:
    """Seconds the command took (bench/accuracy.py's runner: its output kept, exit on failure)."""
    return accuracy_run(cmd, env)[0]


def train(cfg: Path, data: Path, out: Path, mode: str, summary: Path, env: dict) -> dict:
    wall = run([sys.executable, "-m", "lstmflow.cli", "train", "--config", str(cfg),
                "--set", f"data.path={data}", "--set", f"output_dir={out}",
                "--set", f"training.warm_start={mode}", "--summary-out", str(summary)], env)
    s = json.loads(summary.read_text())
    t = s["training"]
    val = next((a["val_rel_mae"] for a in s.get("attempts") or [] if a.get("chosen")), None)
    attempts = s.get("attempts") or []
    fits = sum(a.get("secs") or 0 for a in attempts) or t["seconds"]
    first = (attempts[0].get("secs") if attempts else None) or t["seconds"]
    return {"wall_s": wall, "fit_s": t["seconds"], "fits_s": fits, "first_s": first,
            "attempts": len(attempts) or 1, "start": t.get("start"),
            "start_reason": t.get("start_reason"), "steps": t.get("steps_run"),
            "val_rel_mae": val if val is not None else t.get("warm_val_rel_mae"),
            "test_rel_mae": s["metrics"]["model"]["rel_mae"], "promoted": s["promoted"]}


def _night_file(work: Path, name: str, night: int) -> Path:
    """Night k's data, under one file name every night: a file without a series column names
    its series after the file, and a renamed series is one the champion never saw."""
    folder = work / f"night-{night}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.csv"


def bench_one(name: str, work: Path, nights: int, env: dict) -> list[dict]:
    file, tail, per_night = SERIES[name]
    full = pd.read_csv(DATA / file)
    if tail:
        full = full.tail(tail).reset_index(drop=True)
    base = len(full) - nights * per_night
    cfg = work / f"{name}.yaml"
    night0 = _night_file(work, name, 0)
    full.head(base).to_csv(night0, index=False)
    run([sys.executable, "-m", "lstmflow.cli", "init", "--data", str(night0), "--out", str(cfg),
         "--output-dir", str(work / "unused"), "--force"], env)
    rows = []
    for mode in ("never", "auto"):  # night 0: the same cold champion for both registries
        r = train(cfg, night0, work / f"{name}-{mode}", "never",
                  work / f"{name}-{mode}-0.json", env)
        rows.append({"series": name, "night": 0, "mode": mode, **r})
    for k in range(1, nights + 1):
        data = _night_file(work, name, k)
        full.head(base + k * per_night).to_csv(data, index=False)
        for mode in ("never", "auto"):
            r = train(cfg, data, work / f"{name}-{mode}", mode,
                      work / f"{name}-{mode}-{k}.json", env)
            rows.append({"series": name, "night": k, "mode": mode, **r})
            print(f"{name} night {k} {mode}: fit {r['fit_s']:.1f} s ({r['start']}), test "
                  f"{r['test_rel_mae']:.4f}", file=sys.stderr, flush=True)
    return rows


def report(rows: list[dict]) -> None:
    print(f"\n{'series':<26}{'night':>6}{'mode':>6}{'start':>6}{'wall s':>8}{'fit s':>7}"
          f"{'fits s':>8}{'steps':>7}{'val rel':>9}{'test rel':>9}  promoted")
    for r in rows:
        print(f"{r['series']:<26}{r['night']:>6}{r['mode']:>6}{(r['start'] or '-'):>6}"
              f"{r['wall_s']:>8.1f}{r['fit_s']:>7.1f}{r['fits_s']:>8.1f}{r['steps'] or 0:>7}"
              f"{_num(r['val_rel_mae']):>9}{_num(r['test_rel_mae']):>9}  {r['promoted']}")
    print("\nper series over nights 1..N: median warm fit time / cold fit time (whole run's too), "
          "median test rel MAE warm / cold")
    for name in dict.fromkeys(r["series"] for r in rows):
        cold = [r for r in rows if r["series"] == name and r["mode"] == "never" and r["night"]]
        warm = [r for r in rows if r["series"] == name and r["mode"] == "auto" and r["night"]]
        fit = statistics.median(w["fits_s"] / c["fits_s"] for w, c in zip(warm, cold, strict=True))
        wall = statistics.median(w["wall_s"] / c["wall_s"] for w, c in zip(warm, cold, strict=True))
        test = statistics.median(w["test_rel_mae"] / c["test_rel_mae"]
                                 for w, c in zip(warm, cold, strict=True))
        starts = sum(w["start"] == "warm" for w in warm)
        night0 = next(r for r in rows if r["series"] == name and r["night"] == 0)
        print(f"{name}: fits {fit:.2f}x, whole run {wall:.2f}x, test rel MAE {test:.3f}x; "
              f"{starts} of {len(warm)} nights kept the warm start; night 0 (cold, default "
              f"config): all fits / first fit {night0['fits_s'] / night0['first_s']:.2f}x over "
              f"{night0['attempts']} attempt(s)")


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="*", choices=list(SERIES), default=list(SERIES))
    p.add_argument("--nights", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", help="also write the rows here")
    p.add_argument("--keep", metavar="DIR", help="keep configs, data and runs in DIR")
    args = p.parse_args()
    env = bench_env(args.threads)
    rows: list[dict] = []
    with work_dir(args.keep) as work:
        for name in args.series:
            rows += bench_one(name, work, args.nights, env)
    report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
