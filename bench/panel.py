"""Train and backtest a panel of real-derived series on the Dask runner: how wall time and peak
memory grow with the number of series.

The panel is DERIVED, not a dataset of its own: every real public series in the research folder
(/work/research/data or $LSTMFLOW_RESEARCH_DATA; provenance in its datasets.md) with a step of
an hour or less is resampled to hourly means, then cut into windows of --length hours starting
every --stride hours (they overlap when the stride is shorter) with no missing hour (and positive
throughout, or not positive from their first two days: see derived_panel). Each window is one
series, named `derived:<source>[:<id>]:w<k>`, keeping its real timestamps and values.

For each panel size N (the first N windows of a fixed shuffle), in a fresh process each:
`lstmflow train` (one global model over the N series) and `lstmflow backtest` (--folds folds on
a local Dask cluster of --workers processes x 1 torch thread). Prints wall time and peak RSS
(summed over the process tree: CLI, its Prefect API server, Dask workers) per run and per 100
series, and the marginal time per 100 series between consecutive sizes.

Run: .venv/bin/python bench/panel.py [--sizes 250,500,1000,2000] [--length 168] [--stride 56]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from proctree import run_measured  # noqa: E402

RESEARCH = Path(os.environ.get("LSTMFLOW_RESEARCH_DATA", "/work/research/data"))
SOURCES = (  # research file -> its step; resampled to hourly means
    ("nyc_weather_hourly", "h"), ("minneapolis_temp_hourly", "h"),
    ("keywest_water_temp_hourly", "h"), ("seattle_temp_hourly", "h"),
    ("beijing_pm25_hourly", "h"), ("water_flow_hourly", "h"),
    ("vic_elec_2014_halfhourly", "30min"), ("taylor_halfhourly", "30min"),
    ("sea_surface_temp_30min", "30min"), ("household_power_15min", "15min"),
    ("yosemite_temp_5min", "5min"), ("glucose_cgm_5min", "5min"), ("bank_calls_5min", "5min"),
)


def derived_panel(length: int, stride: int, seed: int = 0) -> list[pd.DataFrame]:
    """Complete windows of `length` hours starting every `stride` hours (overlapping when
    stride < length) from every source, shuffled."""
    parts = []
    for name, _ in SOURCES:
        path = RESEARCH / f"{name}.csv"
        if not path.is_file():
            continue
        df = pd.read_csv(path, usecols=lambda c: c in ("timestamp", "series_id", "target"),
                         parse_dates=["timestamp"])
        groups = df.groupby("series_id") if "series_id" in df else [(None, df)]
        for sid, g in groups:
            hourly = g.set_index("timestamp")["target"].resample("h").mean()  # [T] grid
            values = hourly.to_numpy()
            for k in range((len(values) - length) // stride + 1):
                win = slice(k * stride, k * stride + length)
                v = values[win]
                # lstmflow refuses a series positive in its training part and not after it
                # (data/features.py): keep windows positive throughout or not from the start
                if np.isfinite(v).all() and ((v > 0).all() or (v[:48] <= 0).any()):
                    src = name if sid is None else f"{name}:{sid}"
                    parts.append(pd.DataFrame({"series_id": f"derived:{src}:w{k:04d}",
                                               "timestamp": hourly.index[win],
                                               "target": values[win]}))
    order = np.random.default_rng(seed).permutation(len(parts))
    return [parts[i] for i in order]


def panel_config(path: Path, out: Path, args: argparse.Namespace) -> dict:
    h, test = 6, 24
    return {
        "name": "panel",
        "data": {"path": str(path), "timestamp_column": "timestamp", "series_column": "series_id",
                 "target_column": "target", "freq": "h"},
        "forecast": {"horizon": h, "input_size": 24},
        "preprocess": {"target_transform": "level", "impute": "ffill", "max_gap": 3},
        "features": {"return_periods": [], "rolling_mean_windows": [],
                     "volatility_windows": [], "rsi_windows": [], "macd_spans": [],
                     "bollinger_windows": [], "zscore_windows": [], "calendar": "auto"},
        "model": {"hidden_size": 16, "num_layers": 1, "dropout": 0.0},
        "training": {"max_steps": args.max_steps, "val_check_steps": args.check_steps,
                     "batch_size": 256, "window_stride": 2, "patience": 2},
        "evaluation": {"val_size": 24, "test_size": test, "season": 24},
        # real windows include spikes (PM2.5, call counts): the raw gate reports them, and
        # the bench measures the pipeline, not the data
        "quality": {"severity": {"outliers": "warning", "jump": "warning"}},
        "backtest": {"folds": args.folds, "step": test},
        "runtime": {"runner": "dask", "workers": args.workers, "torch_threads": 1,
                    "concurrent_runs": 1},
        "registry": {"promote": "never"},
        "output_dir": str(out),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="250,500,1000,2000")
    ap.add_argument("--length", type=int, default=168, help="hours per derived series")
    ap.add_argument("--stride", type=int, default=56, help="hours between window starts")
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--max-steps", type=int, default=250, help="training.max_steps")
    ap.add_argument("--check-steps", type=int, default=50, help="training.val_check_steps")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    windows = derived_panel(args.length, args.stride)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"derived panel: {len(windows)} windows of {args.length} h, {args.stride} h apart, from "
          f"{len({w['series_id'][0].rsplit(':', 1)[0] for w in windows})} real series in {RESEARCH}")
    if len(windows) < max(sizes):
        sys.exit(f"only {len(windows)} windows; lower --sizes or --length")
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"panel_{n}.parquet"
            pd.concat(windows[:n], ignore_index=True).to_parquet(path, index=False)
            cfg = Path(tmp) / f"panel_{n}.yaml"
            cfg.write_text(yaml.safe_dump(panel_config(path, Path(tmp) / f"out_{n}", args)))
            row = {"n": n}
            for cmd in ("train", "backtest"):
                out = Path(tmp) / f"{cmd}_{n}.json"
                m = run_measured([sys.executable, "-m", "lstmflow.cli", cmd, "--config", str(cfg),
                                  "--summary-out", str(out)], env)
                if m.returncode != 0 or not out.is_file():
                    sys.exit(f"{cmd} with {n} series: exit {m.returncode}\n{m.output[-4000:]}")
                s = json.loads(out.read_text())
                row[cmd] = {"wall": m.seconds, "mb": m.peak_tree_mb, "cpu": m.cpu_seconds}
                if cmd == "train":
                    row[cmd]["fit"] = s["training"]["seconds"]
                else:
                    row[cmd].update(flow=s["seconds"], folds=s["folds_seconds"], fit=sum(
                        (f.get("training") or {}).get("seconds", 0) for f in s["folds"]))
                print(f"{n} series, {cmd}: {m.seconds:.1f}s (CPU {m.cpu_seconds:.0f}s), peak "
                      f"{m.peak_tree_mb:.0f} MB, largest process {m.peak_process_mb:.0f} MB",
                      flush=True)
            rows.append(row)
    print(f"\nDask runner, {args.workers} workers x 1 torch thread; {args.folds} folds; "
          f"<= {args.max_steps} steps, validation every {args.check_steps}; load average "
          f"{os.getloadavg()[0]:.1f}. Seconds; MB: peak RSS of the process tree. train: CLI "
          "wall, fit. backtest: CLI wall, flow, fold stage (Dask start-up included), fits "
          "summed over folds.")
    print(f"{'series':>6} | {'train':>6}{'fit':>6}{'MB':>6} | {'backtest':>8}{'flow':>6}{'folds':>6}"
          f"{'fits':>6}{'MB':>6} | per 100 series: train, backtest, MB | marginal per 100: "
          "train, backtest flow, backtest MB")
    prev = None
    for r in rows:
        n, t, b = r["n"], r["train"], r["backtest"]
        marg = "" if prev is None else ", ".join(
            f"{(x - y) / (n - prev['n']) * 100:.1f}" for x, y in (
                (t["wall"], prev["train"]["wall"]), (b["flow"], prev["backtest"]["flow"]),
                (b["mb"], prev["backtest"]["mb"])))
        print(f"{n:>6} | {t['wall']:>6.1f}{t['fit']:>6.1f}{t['mb']:>6.0f} | {b['wall']:>8.1f}"
              f"{b['flow']:>6.1f}{b['folds']:>6.1f}{b['fit']:>6.1f}{b['mb']:>6.0f} | "
              f"{t['wall'] / n * 100:.1f}, {b['wall'] / n * 100:.1f}, {b['mb'] / n * 100:.0f} | {marg}")
        prev = r

if __name__ == "__main__":
    main()
