"""Induce each training pathology on real series and print what the diagnosis names.

    .venv/bin/python bench/diagnosis_cases.py [--series co2,stocks,...] [--cases healthy,...]

Each case is a real Lightning fit (plain functions, no Prefect) on a real series: the bundled
weekly CO2 and stock prices, and the research series (CSV `timestamp,target`) in
$LSTMFLOW_RESEARCH_DATA (default /work/research/data) when present.
It prints, per case, the findings with their severity and the raw numbers the thresholds in
lstmflow/fit/diagnosis/thresholds.py are compared with, and the seconds diagnosis + report take.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)

from lstmflow.config import apply_overrides, build_config, load_config  # noqa: E402
from lstmflow.core import Forecaster  # noqa: E402
from lstmflow.data.ingest import drop_short_series, ingest  # noqa: E402
from lstmflow.fit.diagnosis import data_stats, diagnose  # noqa: E402
from lstmflow.fit.diagnosis.remedies import small_net  # noqa: E402

# Step budgets (training.max_steps, validation every val_check_steps): a check of 6 steps of 64
# is about one pass over co2's 347 training windows (stride 5), and of 3 steps of 128 in the
# cases with batch 128; the longer series get the same number of steps, not of passes.
SMALL = ["model.hidden_size=16", "model.num_layers=1", "training.max_steps=72",
         "training.val_check_steps=6", "training.batch_size=64", "training.learning_rate=0.01"]
BATCH_128 = ["training.batch_size=128", "training.val_check_steps=3"]
CASES = {
    # one layer as wide as the small-data rule (remedies.small_net) allows for the series'
    # training windows (run_case), on the budget, batch and rate the run chooses
    "healthy": ["model.num_layers=1"],
    "default": [],  # the series' config as it is (reported, not an induced case)
    "divergence": [*SMALL, "training.optimizer=rmsprop", "training.learning_rate=1.0",
                   "training.gradient_clip=0"],
    "underfitting": ["model.hidden_size=1", "model.num_layers=1", "training.max_steps=6",
                     *BATCH_128],
    "plateau": [*SMALL, "training.learning_rate=0.000001", "training.max_steps=24"],
    "exploding": ["model.hidden_size=32", "model.num_layers=4", "training.optimizer=rmsprop",
                  "training.learning_rate=1.0", "training.gradient_clip=0", "model.loss=mse",
                  "preprocess.target_transform=level", "training.max_steps=9", *BATCH_128,
                  "model.dropout=0", "training.scheduler=none"],
    # a wide unregularised network trained long (about 20 passes over 2,000 windows)
    "overfitting": ["model.hidden_size=128", "model.num_layers=1", "model.dropout=0",
                    "training.weight_decay=0", "training.max_steps=640",
                    "training.val_check_steps=32", "training.batch_size=64",
                    "training.patience=20", "training.window_stride=1", "training.scheduler=none",
                    "training.learning_rate=0.01"],
    "shift_x3": SMALL,
    "vanishing": ["model.hidden_size=16", "model.num_layers=6", "training.learning_rate=0.5",
                  "training.gradient_clip=0", "preprocess.target_transform=level",
                  "training.max_steps=12", *BATCH_128, "model.dropout=0",
                  "training.scheduler=none"],
    "noisy": ["training.batch_size=1", "training.learning_rate=0.05",
              "training.scheduler=none"],  # the budget the run chooses
    "collapse": [*SMALL, "training.l1_penalty=1.0"],  # all weights to 0: no change forecast
    "short_context": SMALL,  # and a window of a quarter of the season (run_case)
    "not_converged": [*SMALL, "training.learning_rate=0.001", "training.max_steps=36"],
}
RESEARCH = Path(os.environ.get("LSTMFLOW_RESEARCH_DATA", "/work/research/data"))
# name -> (freq, horizon, input_size, season, val_size, test_size, target transform, rows kept)
RESEARCH_SERIES = {
    "seattle_temp_hourly": ("h", 24, 48, 24, 720, 336, "diff", 4000),
    "us_gasoline_weekly": ("W-MON", 4, 104, 52, 156, 104, "diff", None),
    "sp500_daily": ("B", 5, 64, 5, 250, 60, "log_return", 1500),
    "taylor_halfhourly": ("30min", 48, 96, 48, 672, 336, "diff", None),
    "beijing_pm25_hourly": ("h", 24, 48, 24, 720, 336, "diff", 4000),  # spiky, gaps
    "clemson_temp_daily": ("D", 7, 56, 1, 365, 365, "diff", 3000),  # no weekly cycle
}
# Short real series shipped in data/bench (a few hundred points: the small-data cases of issue
# 31): name -> (file, freq, horizon, input_size, season, val_size, test_size, rows kept)
SHORT_SERIES = {
    "gasoline_short": ("gasoline_weekly", "W-SAT", 4, 52, 52, 52, 52, 400),
    "usmelec_monthly": ("usmelec_monthly", "MS", 12, 36, 12, 48, 48, None),
    "births_short": ("us_births_daily", "D", 7, 28, 7, 90, 90, 900),
}
# Longer real series shipped in data/bench: name -> (file, freq, horizon, input_size, season,
# val_size, test_size, target transform, rows kept). gasoline and sp500 designed thresholds
# (their research copies); vic_elec, minneapolis and births never did.
BENCH_SERIES = {
    "gasoline": ("gasoline_weekly", "W-SAT", 4, 104, 52, 156, 104, "diff", None),
    "sp500": ("sp500_daily", "B", 5, 64, 5, 250, 60, "log_return", 1500),
    "vic_elec": ("vic_elec_2014_halfhourly", "30min", 48, 96, 48, 672, 336, "diff", 5000),
    "minneapolis": ("minneapolis_temp_hourly", "h", 24, 48, 24, 720, 336, "diff", 5000),
    "births": ("us_births_daily", "D", 7, 28, 7, 365, 365, "diff", 3000),
}
# the same series with its last rows dropped: the S&P 500's test part ends in the Q4 2018 sell-off
# (volatility 2.7x the training part's); a year earlier its test part is Q4 2017
BENCH_SERIES["sp500_2017"] = BENCH_SERIES["sp500"]
EARLIER = {"sp500_2017": 250}
SHIFTED = {"shift_x3": 3.0}
# The finding each induced case must be named by (at warning or error; the copy of the last
# value, and any finding a random walk explains, also at info); 'healthy' must carry none.
EXPECTED = {"divergence": ("divergence",), "exploding": ("exploding_gradients",),
            "vanishing": ("vanishing_gradients",), "overfitting": ("overfitting",),
            "underfitting": ("underfitting",), "plateau": ("plateau",),
            "noisy": ("noisy_optimisation",), "shift_x3": ("distribution_shift",),
            "collapse": ("lagged_copy", "flat_forecast"), "short_context": ("short_context",),
            "not_converged": ("not_converged",)}


def named_as_induced(case: str, findings: list[dict]) -> bool:
    """The case's finding is among the run's (healthy: no warning or error at all)."""
    loud = [f["finding"] for f in findings if f["severity"] in ("warning", "error")]
    if case in ("healthy", "default"):
        return not loud
    quiet = [f["finding"] for f in findings if f["finding"] in ("lagged_copy", "flat_forecast")
             or "expected on a random walk" in f["evidence"]]  # info: the data explains it
    return any(n in loud or n in quiet for n in EXPECTED.get(case, ()))


def _sets(name: str, path: Path, freq: str, h: int, L: int, m: int, val: int, test: int,
          transform: str) -> list[str]:
    """The overrides that read a `timestamp,target` CSV with the series' own shape."""
    return [f"name={name}", f"data.path={path}", "data.timestamp_column=timestamp",
            "data.timestamp_format=null", "data.target_column=target", f"data.freq={freq}",
            f"forecast.horizon={h}", f"forecast.input_size={L}", f"evaluation.season={m}",
            f"evaluation.val_size={val}", f"evaluation.test_size={test}",
            f"preprocess.target_transform={transform}"]


def series_configs() -> dict[str, tuple[str, list[str], int | None]]:
    """name -> (config file, overrides, rows kept per series from the end)."""
    out = {
        "co2": ("configs/co2.yaml", [], None),
        "stocks": ("configs/default.yaml", ["training.window_stride=8"], 900),
    }
    for name, (freq, h, L, m, val, test, transform, tail) in RESEARCH_SERIES.items():
        if (RESEARCH / f"{name}.csv").is_file():
            out[name] = ("configs/co2.yaml", [
                *_sets(name, RESEARCH / f"{name}.csv", freq, h, L, m, val, test, transform),
                "training.window_stride=8"], tail)
    for name, (file, freq, h, L, m, val, test, transform, tail) in BENCH_SERIES.items():
        out[name] = ("configs/co2.yaml", _sets(name, ROOT / "data/bench" / f"{file}.csv.gz",
                                               freq, h, L, m, val, test, transform), tail)
    for name, (file, freq, h, L, m, val, test, tail) in SHORT_SERIES.items():
        out[name] = ("configs/co2.yaml", _sets(name, ROOT / "data/bench" / f"{file}.csv.gz",
                                               freq, h, L, m, val, test, "diff"), tail)
    return out


def case_config(series: str, overrides: list[str], out: Path):
    """(config, rows kept per series) of a series with `overrides`, writing under `out`; the
    bundled configs' relative data paths made absolute (benches run from anywhere)."""
    path, sets, tail = series_configs()[series]
    cfg = load_config(ROOT / path, [*sets, *overrides, f"output_dir={out}"])
    if not Path(cfg.data.path).is_absolute():
        cfg = build_config(apply_overrides(cfg.model_dump(mode="json"),
                                           [f"data.path={ROOT / cfg.data.path}"]))
    return cfg, tail


def series_frame(cfg, tail: int | None):
    """The series as the flow ingests them: the last `tail` rows of each (of those before the
    EARLIER rows dropped), short ones dropped."""
    frame = ingest(cfg.data).frame
    if cfg.name in EARLIER:
        frame = frame.groupby("series_id", sort=False).head(-EARLIER[cfg.name])
    if tail:
        frame = frame.groupby("series_id", sort=False).tail(tail).reset_index(drop=True)
    return drop_short_series(frame, cfg.min_history(), "drop", cfg.data.path)[0]


def case_overrides(series: str, case: str) -> list[str]:
    """The case's overrides on the series' config (short_context: a quarter-season window)."""
    path, sets, _ = series_configs()[series]
    if case != "short_context":
        return CASES[case]
    season = load_config(ROOT / path, sets).evaluation.season
    return [*CASES[case], f"forecast.input_size={max(2, season // 4)}"]


def prepared(cfg, tail: int | None, scale_test: float | None):
    frame = series_frame(cfg, tail)
    bounds = Forecaster(cfg).split(frame)
    if scale_test:
        for sid, b in bounds.items():
            rows = frame.index[frame["series_id"].astype(str) == sid][b.val_end:]
            frame.loc[rows, "target"] *= scale_test
    return Forecaster(cfg).prepare(frame, bounds), bounds


def run_case(series: str, case: str, out: Path) -> dict:
    cfg, tail = case_config(series, case_overrides(series, case), out)
    prep, bounds = prepared(cfg, tail, SHIFTED.get(case))
    if case == "healthy":  # the width lstmflow's small-data rule gives these windows
        L, H = cfg.forecast.input_size, cfg.forecast.horizon
        windows = sum(max(0, b.train_end - L - H + 1) for b in bounds.values())
        cfg = build_config(apply_overrides(cfg.model_dump(mode="json"),
                                           [f"model.hidden_size={small_net(windows)}"]))
    start = time.perf_counter()
    attempt = Forecaster(cfg).run(prep)
    total = time.perf_counter() - start
    t0 = time.perf_counter()  # the diagnosis alone, again, for its cost
    diagnose(attempt.history, attempt.metrics,
             data_stats(prep.arrays, cfg.evaluation.season, cfg.forecast.horizon),
             cfg.model_dump(mode="json"))
    diag_s = time.perf_counter() - t0
    return {"series": series, "case": case, "findings": attempt.findings,
            "history": attempt.history, "stats": attempt.stats, "metrics": attempt.metrics,
            "fit_s": total - diag_s, "diag_s": diag_s}


def measures(r: dict) -> str:
    """The raw numbers the thresholds are compared with, for this case."""
    import numpy as np

    from lstmflow.fit.diagnosis.noise import jitter

    h = r["history"]

    def curve(key):
        return np.array([np.nan if x.get(key) is None else float(x[key]) for x in h])

    tr, zero = curve("train_loss"), curve("train_loss_zero")
    val = curve("val_loss")
    first, head = curve("grad_norm_max:lstm.l0"), curve("grad_norm_max:head")
    out = {
        "start/zero": tr[0] / zero[0] if len(h) else np.nan,
        "max/zero": np.nanmax(tr / zero) if len(h) else np.nan,
        "end/min": tr[-1] / np.nanmin(tr) if len(h) else np.nan,
        "min/zero": np.nanmin(tr / zero) if len(h) else np.nan,
        "l0/head": np.nanmax(first / head) if len(h) else np.nan,
        "val_gain": 1 - np.nanmin(val) / val[0] if len(h) else np.nan,
        "w_change": np.nanmax(curve("weight_change")) if len(h) else np.nan,
        "w_med": np.nanmedian(curve("weight_change")) if len(h) else np.nan,
        "jitter": jitter(val),
        "g_signal": float(np.nanmedian(curve("grad_signal"))) if len(h) else np.nan,
    }
    spreads, big, r2 = [], [], []
    for s in r["stats"]["per_series"].values():
        for split in ("val", "test"):
            if s[split]["spread"] and s["train"]["spread"]:
                spreads.append(s[split]["spread"] / s["train"]["spread"])
        big += [s[k]["max_abs"] for k in ("train", "val", "test") if s[k]["max_abs"] is not None]
        if s["predictability"] is not None:
            r2.append(s["predictability"])
    out["spread"] = f"{min(spreads):.2f}-{max(spreads):.2f}" if spreads else "-"
    out["max|z|"] = max(big) if big else np.nan
    out["R2"] = f"{min(r2):.3f}-{max(r2):.3f}" if r2 else "-"
    return "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", default=",".join(series_configs()))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for series in args.series.split(","):
            for case in args.cases.split(","):
                r = run_case(series, case, Path(tmp))
                names = [f"{f['finding']}({f['severity'][0]})" for f in r["findings"]]
                rows.append((series, case, names, named_as_induced(case, r["findings"])))
                print(f"{series:>10} {case:<13} fit {r['fit_s']:5.1f}s diag {r['diag_s']:.2f}s  "
                      f"{' '.join(names)}", flush=True)
                print(f"{'':>24}{measures(r)}", flush=True)
                if args.verbose:
                    for f in r["findings"]:
                        print(f"      {f['finding']}: {f['evidence']}")
                        print(f"        -> {f['remedy']['overrides']}")
    print("\n| series | induced | named | findings (e=error, w=warning, i=info) |\n|---|---|---|---|")
    for series, case, names, ok in rows:
        print(f"| {series} | {case} | {'yes' if ok else 'NO'} | {' '.join(names)} |")
    hit = sum(ok for *_, ok in rows)
    print(f"\n{hit} of {len(rows)} cases named as induced (healthy: no warning or error)")


if __name__ == "__main__":
    main()
