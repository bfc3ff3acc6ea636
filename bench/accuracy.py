"""The project's honest scoreboard: `lstmflow init` + `lstmflow train` on real series it never saw.

For each series in data/bench/ (hourly temperature with gaps, half-hourly demand with a
temperature covariate, a daily stock index with holidays as gaps) it runs the two commands as a
user would, then scores, on exactly the test points the run was scored on:
  lstmflow   the trained LSTM (from the run's summary.json)
  ridge      ridge regression on the last `input_size` levels (scikit-learn), one output per
             horizon step, predicting the change from the origin; alpha chosen on validation
  s-naive    the seasonal-naive forecast (the reference: rel MAE = MAE / its MAE)
and prints rel MAE and wall time for each. These three series were only measured, never used to
choose defaults. `--before` reruns with the training defaults this project had before
(50 epochs, batch 128, stride 16, learning rate 1e-3, target as differences).

    .venv/bin/python bench/accuracy.py [--series NAME ...] [--before] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data" / "bench"
SERIES = {  # name: (file, what it is)
    "minneapolis_temp_hourly": ("minneapolis_temp_hourly.csv.gz", "hourly temperature, real gaps"),
    "vic_elec_2014_halfhourly": ("vic_elec_2014_halfhourly.csv.gz",
                                 "half-hourly demand + temperature"),
    "sp500_daily": ("sp500_daily.csv.gz", "daily index, holidays as gaps"),
}
# --before: the deprecated epoch budget (training.max_epochs) and old defaults, on purpose
BEFORE = ["training.max_epochs=50", "training.batch_size=128", "training.window_stride=16",
          "training.learning_rate=0.001", "preprocess.target_transform=diff"]
ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


def bench_env(threads: int = 1, **extra: str) -> dict[str, str]:
    """The environment every bench's `lstmflow` subprocess runs in: `threads` BLAS/torch
    threads (OMP, MKL), no Prefect analytics, plus `extra`."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


@contextmanager
def work_dir(keep: str | None) -> Iterator[Path]:
    """Where a bench keeps configs, summaries and runs: `keep` (made if missing, left in
    place), else a temporary folder removed at the end."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        yield work


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return time.perf_counter() - start, r


def lag_matrix(level: np.ndarray, ends: np.ndarray, p: int) -> np.ndarray:
    """[N, p] levels at ends-p+1 .. ends, minus the level at the origin (scale-free inputs)."""
    idx = ends[:, None] - np.arange(p - 1, -1, -1)[None, :]  # [N, p]
    x = level[np.clip(idx, 0, None)]
    x[idx < 0] = np.nan
    return x - level[ends][:, None]


def targets(level: np.ndarray, ends: np.ndarray, h: int) -> np.ndarray:
    """[N, H] changes from the origin level to each of the next H levels."""
    rows = ends[:, None] + np.arange(1, h + 1)[None, :]
    return level[np.clip(rows, None, len(level) - 1)] - level[ends][:, None]


def ridge_scores(cfg_path: Path, snapshot: Path) -> dict[str, float]:
    """Ridge on lags, fit on training origins, alpha by validation MAE, scored on the test
    origins the run used (same windows, same masks): MAE of ridge, seasonal naive and naive."""
    from sklearn.linear_model import Ridge

    from lstmflow.config import build_config
    from lstmflow.data.ingest import ingest
    from lstmflow.data.prepare import prepare
    from lstmflow.data.split import split_bounds
    from lstmflow.fit.evaluate import baseline_forecasts
    from models.data import StackedSeries, window_ends

    raw = yaml.safe_load(cfg_path.read_text())
    raw["data"] = {"path": str(snapshot), "timestamp_column": "timestamp", "target_column": "target",
                   "series_column": "series_id", "covariates": raw["data"].get("covariates", []),
                   "freq": raw["data"]["freq"]}  # the run's canonical snapshot, as resume reads it
    cfg = build_config(raw)
    frame = ingest(cfg.data).frame
    prepared = prepare(frame, split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size), cfg)
    h, L, season = cfg.forecast.horizon, cfg.forecast.input_size, cfg.evaluation.season
    stack = StackedSeries(prepared.arrays, h)
    start = time.perf_counter()
    sets: dict[str, list] = {s: [] for s in ("train", "val", "test")}
    for split in sets:
        ends = window_ends(stack, prepared.arrays, split, L, 1)
        for off, a in zip(stack.offsets, prepared.arrays, strict=True):
            local = ends[(ends >= off) & (ends < off + len(a.z))] - off
            if split == "train":
                local = local[local + h < a.bounds.train_end]
            sets[split].append((a, local))

    def stacked(split):
        xs = [lag_matrix(a.level, e, L) for a, e in sets[split]]
        ys = [targets(a.level, e, h) for a, e in sets[split]]
        return np.concatenate(xs), np.concatenate(ys)

    xtr, ytr = stacked("train")
    ok = np.isfinite(xtr).all(1) & np.isfinite(ytr).all(1)
    xva, yva = stacked("val")
    best = None
    for alpha in ALPHAS:
        m = Ridge(alpha=alpha).fit(xtr[ok], ytr[ok])
        okv = np.isfinite(xva).all(1)[:, None] & np.isfinite(yva)
        err = np.abs(m.predict(np.nan_to_num(xva)) - np.nan_to_num(yva))[okv].mean()
        if best is None or err < best[0]:
            best = (err, alpha, m)
    model = best[2]
    errs: dict[str, list] = {"ridge": [], "seasonal_naive": [], "naive": []}
    for a, ends in sets["test"]:
        rows = ends[:, None] + np.arange(1, h + 1)[None, :]
        actual = a.actual[rows]
        base = baseline_forecasts(a.level, ends, h, season)
        ridge = model.predict(np.nan_to_num(lag_matrix(a.level, ends, L))) + a.level[ends][:, None]
        mask = np.isfinite(actual) & np.isfinite(base["seasonal_naive"]) & np.isfinite(base["naive"])
        for name, pred in (("ridge", ridge), *base.items()):
            errs[name].append(np.abs(pred - actual)[mask])
    out = {k: float(np.concatenate(v).mean()) for k, v in errs.items()}
    out.update(ridge_alpha=best[1], ridge_seconds=time.perf_counter() - start)
    return out


def bench_one(name: str, work: Path, before: bool, extra: list[str], env: dict,
              source: tuple[Path, str] | None = None, init_args: tuple[str, ...] = ()) -> dict:
    """init + train on one series as a user would, scored beside ridge and the naive forecasts
    on the run's test points; `source`: (file, what it is) of a series not in SERIES;
    `init_args`: what the user tells init (e.g. --target when several columns could be)."""
    path, what = source or (DATA / SERIES[name][0], SERIES[name][1])
    cfg_path, summary_path = work / f"{name}.yaml", work / f"{name}.summary.json"
    init_cmd = [sys.executable, "-m", "lstmflow.cli", "init", "--data", str(path),
                "--out", str(cfg_path), "--output-dir", str(work / "out"), "--force"]
    init_s, _ = run(init_cmd + [*init_args] + (["--no-fit"] if before else []), env)
    sets = [*(BEFORE if before else []), *extra]
    train_s, _ = run([sys.executable, "-m", "lstmflow.cli", "train", "--config", str(cfg_path),
                      "--summary-out", str(summary_path), *[a for s in sets for a in ("--set", s)]],
                     env)
    summary = json.loads(summary_path.read_text())
    m, cfg = summary["metrics"], summary["config"]
    snapshot = Path(summary["run_dir"]) / "data.parquet"
    ref = ridge_scores(cfg_path, snapshot)
    snaive = m["seasonal_naive"]["mae"]
    if not np.isclose(ref["seasonal_naive"], snaive, rtol=1e-6):
        sys.exit(f"{name}: seasonal-naive MAE {ref['seasonal_naive']} differs from the run's "
                 f"{snaive}: the points are not the same")
    t = summary["training"]
    fits = sum(a.get("secs") or 0 for a in summary.get("attempts") or []) or t["seconds"]
    return {
        "series": name, "what": what, "freq": cfg["data"]["freq"],
        "horizon": cfg["forecast"]["horizon"], "season": cfg["evaluation"]["season"],
        "transform": cfg["preprocess"]["target_transform"], "points": m["model"]["points"],
        "rel_mae": {"lstmflow": m["model"]["mae"] / snaive, "ridge": ref["ridge"] / snaive,
                    "seasonal_naive": 1.0, "naive": ref["naive"] / snaive},
        "seconds": {"init": init_s, "train": train_s, "fit": t["seconds"], "fits": fits,
                    "ridge": ref["ridge_seconds"]},
        "steps": t.get("steps_run"), "epochs": t.get("epochs_run"), "ridge_alpha": ref["ridge_alpha"],
    }


STACK = "import prefect.flows, great_expectations, pytorch_lightning"


def import_floor(env: dict) -> float:
    """Seconds a fresh interpreter takes to import the stack every `lstmflow train` needs: the
    part of `train s` no pipeline built on it can avoid (neuralforecast's timer leaves its own
    imports out)."""
    return min(run([sys.executable, "-c", STACK], env)[0] for _ in range(2))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", nargs="*", choices=list(SERIES), default=list(SERIES))
    p.add_argument("--before", action="store_true", help="the epoch budget of earlier versions")
    p.add_argument("--set", action="append", default=[], help="extra override for train")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--keep", metavar="DIR", help="keep configs, summaries and runs in DIR")
    args = p.parse_args()
    env = bench_env(args.threads)
    results = []
    with work_dir(args.keep) as work:
        for name in args.series:
            results.append(bench_one(name, work, args.before, args.set, env))
            r = results[-1]
            print(f"{name}: done in {r['seconds']['init'] + r['seconds']['train']:.0f} s",
                  file=sys.stderr)
    floor = import_floor(env)
    label = "before (epoch budget)" if args.before else "default (lstmflow init + train)"
    print(f"\nrel MAE = MAE / seasonal-naive MAE on the run's test points; {label}")
    print(f"{'series':<26}{'freq':>6}{'H':>4}{'season':>7}{'transform':>11}{'points':>9}"
          f"{'lstmflow':>10}{'ridge':>8}{'naive':>8}{'init s':>8}{'train s':>8}{'fit s':>7}"
          f"{'fits s':>8}{'ridge s':>8}")
    for r in results:
        rel, s = r["rel_mae"], r["seconds"]
        print(f"{r['series']:<26}{r['freq']:>6}{r['horizon']:>4}{r['season']:>7}"
              f"{r['transform']:>11}{r['points']:>9}{rel['lstmflow']:>10.3f}{rel['ridge']:>8.3f}"
              f"{rel['naive']:>8.3f}{s['init']:>8.0f}{s['train']:>8.0f}{s['fit']:>7.0f}"
              f"{s['fits']:>8.0f}{s['ridge']:>8.1f}")
    print(f"train s: the whole `lstmflow train` process, of which {floor:.1f} s is importing "
          f"the stack alone ({STACK!r}, best of 2 here); fit s: the chosen attempt's training; "
          "fits s: every attempt's, repair included (neuralforecast's timed part is its fit "
          "and cross-validation)")
    if args.json:
        Path(args.json).write_text(json.dumps({"import_floor_s": floor, "series": results},
                                              indent=2))


if __name__ == "__main__":
    main()
