"""Induce flat, lagged-copy and short-window forecasts on real series; print what is named.

    .venv/bin/python bench/forecast_findings.py [--series co2,stocks,...] [--cases healthy,...]
    .venv/bin/python bench/forecast_findings.py --cycles   # the shortest cycle of every series

A sibling of bench/diagnosis_cases.py (same series and data preparation, real Lightning fits,
no Prefect). Cases: `healthy` (a small model trained normally), `l1_collapse` (L1 penalty at
its maximum: the weights collapse to zero; the target is the series' usual difference or log
return), `l1_level` (the same on a level target), `short_window` (a window of a quarter of the
season) and `as_configured` (the series' config as it is; on `stocks_default` the bundled
default config, unchanged, on the whole stock sample). Per case it prints the findings and the
numbers the thresholds of flat_forecast, lagged_copy and short_context are compared with:
spread, error correlation with naive, MAE over naive's, path swing, seasonal path skill, and the
shortest cycle against the window. `--cycles` prints the shortest cycle (cycles.py) of the
training part (first 80%) of every research series and of the bundled ones, with no fit.
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

from bench.diagnosis_cases import RESEARCH, RESEARCH_SERIES, SMALL, prepared, series_configs  # noqa: E402
from lstmflow.config import apply_overrides, build_config, load_config  # noqa: E402
from lstmflow.core import Forecaster  # noqa: E402

# name -> (freq, horizon, input_size, season, val_size, test_size, target transform, rows kept)
RESEARCH_SERIES.update({
    "minneapolis_temp_hourly": ("h", 24, 48, 24, 720, 336, "diff", 6000),
    "air_passengers_monthly": ("MS", 12, 24, 12, 24, 24, "diff", None),
    "yosemite_temp_5min": ("5min", 48, 288, 288, 1440, 576, "diff", 6000),
})
CASES = ("healthy", "l1_collapse", "l1_level", "short_window", "as_configured")
NAMED = ("flat_forecast", "lagged_copy", "short_context", "no_signal")


def overrides(case: str, season: int) -> list[str]:
    return {
        "healthy": SMALL,
        "l1_collapse": [*SMALL, "training.l1_penalty=1.0"],
        "l1_level": [*SMALL, "training.l1_penalty=1.0", "preprocess.target_transform=level"],
        "short_window": [*SMALL, f"forecast.input_size={max(2, season // 4)}"],
        "as_configured": [],
    }[case]


def configs() -> dict[str, tuple[str, list[str], int | None]]:
    out = series_configs()
    out["stocks_default"] = ("configs/default.yaml", [], None)
    return out


def run_case(series: str, case: str, out: Path) -> dict:
    path, sets, tail = configs()[series]
    season = load_config(ROOT / path, sets).evaluation.season
    cfg = load_config(ROOT / path, [*sets, *overrides(case, season), f"output_dir={out}"])
    if not Path(cfg.data.path).is_absolute():
        raw = cfg.model_dump(mode="json")
        cfg = build_config(apply_overrides(raw, [f"data.path={ROOT / cfg.data.path}"]))
    prep, _ = prepared(cfg, tail, None)
    start = time.perf_counter()
    attempt = Forecaster(cfg).run(prep)
    return {"attempt": attempt, "seconds": time.perf_counter() - start}


def measures(attempt) -> list[str]:
    """Per series (first 3): the shape of the forecasts and the cycle against the window."""
    shape = (attempt.metrics or {}).get("shape") or {}
    per = (attempt.metrics or {}).get("per_series") or {}
    window = attempt.stats.get("input_size")
    lines = []
    for sid, s in list(attempt.stats["per_series"].items())[:3]:
        sh, m = shape.get(sid) or {}, (per.get(sid) or {})
        rel = {k: m[k]["mae"] / m["naive"]["mae"] for k in ("model", "seasonal_naive")
               if m and m["naive"]["mae"]}
        c = s.get("cycle")
        vals = {"spread": sh.get("spread"), "err_corr": sh.get("error_corr"),
                "rel_mae": rel.get("model"), "snaive/naive": rel.get("seasonal_naive"),
                "move": sh.get("move"), "path_amp": sh.get("path_amp"),
                "path_skill": sh.get("seasonal_path_skill"), "R2": s.get("predictability")}
        text = "  ".join(f"{k}={v:.3f}" for k, v in vals.items() if v is not None)
        cyc = f"cycle={c['lag']}@{c['acf']:.2f}(k={c['span']})" if c else "cycle=none"
        lines.append(f"{sid[:10]:>10}: {text}  {cyc} window={window}")
    return lines


def cycles() -> None:
    """The shortest cycle of the first 80% of each series, on its own time step (else its most
    common one; the stock sample: one row per trading day, as the pipeline reads it)."""
    import pandas as pd

    series = {}
    for path in sorted(RESEARCH.glob("*.csv")):
        df = pd.read_csv(path)
        if "series_id" in df:
            df = df[df["series_id"] == df["series_id"].iloc[0]]
        series[path.stem] = pd.Series(df["target"].to_numpy(), pd.to_datetime(
            df["timestamp"], utc=True, format="mixed"))
    co2 = pd.read_csv(ROOT / "data/sample/co2_weekly.csv", dtype={"date": str})
    series["bundled_co2"] = pd.Series(co2["co2"].to_numpy(),
                                      pd.to_datetime(co2["date"], format="%Y%m%d"))
    for name, s in series.items():
        s = s.groupby(level=0).first()
        s = s.asfreq(pd.infer_freq(s.index[:25]) or s.index.to_series().diff().mode().iloc[0])
        _print_cycle(name, s.to_numpy(dtype="float64"))
    for tk, g in pd.read_parquet(ROOT / "data/sample/stocks.parquet").groupby("Ticker"):
        _print_cycle(f"stock {tk}", g["Adj Close"].to_numpy(dtype="float64"))


def _print_cycle(name: str, y) -> None:
    from lstmflow.fit.diagnosis.cycles import shortest_cycle

    c = shortest_cycle(y[: int(0.8 * len(y))])
    text = f"lag {c['lag']}, acf {c['acf']:.2f} (changes over {c['span']} steps)" if c else "none"
    print(f"{name:>28} {len(y):>7} rows: {text}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", default=",".join(s for s in configs() if s != "stocks_default"))
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--cycles", action="store_true")
    args = ap.parse_args()
    if args.cycles:
        return cycles()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for series in args.series.split(","):
            for case in args.cases.split(","):
                r = run_case(series, case, Path(tmp))
                found = r["attempt"].findings
                names = [f"{f['finding']}({f['severity'][0]})" for f in found]
                rows.append((series, case, names))
                print(f"{series:>24} {case:<14} {r['seconds']:5.1f}s  {' '.join(names)}", flush=True)
                for line in measures(r["attempt"]):
                    print(f"{'':>8}{line}", flush=True)
                for f in found:
                    if f["finding"] in NAMED:
                        print(f"{'':>8}{f['finding']}: {f['evidence']}\n{'':>10}-> "
                              f"{f['remedy']['overrides']}", flush=True)
    print("\n| series | case | findings (e=error, w=warning, i=info) |\n|---|---|---|")
    for series, case, names in rows:
        print(f"| {series} | {case} | {' '.join(names)} |")
    print(f"\nresearch series read from {RESEARCH}")


if __name__ == "__main__":
    main()
