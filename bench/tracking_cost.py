"""What tracking costs a fit: the same default fit on the bundled sample with tracking.logger
none, csv, tensorboard (and mlflow with --mlflow URI), best of `--repeats` each, as a ratio to
none, and per validation check.

    .venv/bin/python bench/tracking_cost.py [--repeats 2] [--mlflow http://127.0.0.1:5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)

from lstmflow.config import load_config  # noqa: E402
from lstmflow.core import Forecaster  # noqa: E402
from lstmflow.data.ingest import drop_short_series, ingest  # noqa: E402
from lstmflow.fit.tracking import log_metrics, logger_for, open_run  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--mlflow", help="a tracking URI to time the mlflow logger against")
    args = p.parse_args()
    loggers = ["none", "csv", "tensorboard", *(["mlflow"] if args.mlflow else [])]
    with tempfile.TemporaryDirectory() as tmp:
        base = load_config(ROOT / "configs" / "default.yaml", [
            f"data.path={ROOT / 'data' / 'sample' / 'stocks.parquet'}", f"output_dir={tmp}"])
        frame, _ = drop_short_series(ingest(base.data).frame, base.min_history(), "drop", "")
        prepared = Forecaster(base).prepare(frame)
        best: dict[str, tuple[float, int]] = {}
        for k in range(args.repeats):
            for name in loggers:
                sets = [f"tracking.logger={name}"]
                if name == "mlflow":
                    sets.append(f"tracking.uri={args.mlflow}")
                cfg = load_config(ROOT / "configs" / "default.yaml", [
                    f"data.path={ROOT / 'data' / 'sample' / 'stocks.parquet'}",
                    f"output_dir={tmp}", *sets])
                run = open_run(cfg, f"bench-{name}-{k}")
                fit = Forecaster(cfg).fit(prepared, track=run)
                secs = fit.train.seconds
                if name not in best or secs < best[name][0]:
                    best[name] = (secs, len(fit.history))
        per_check = {name: call_ms(base, name, args.mlflow, fit.history[-1], tmp)
                     for name in loggers if name != "none"}
    ref = best["none"][0]
    print(f"{'logger':<12}{'fit s':>8}{'checks':>8}{'ratio':>8}{'ms/check extra':>16}"
          f"{'ms/check logged':>17}{'share of fit':>14}")
    for name, (secs, checks) in best.items():
        extra = 1000 * (secs - ref) / max(checks, 1)
        ms = per_check.get(name, 0.0)
        print(f"{name:<12}{secs:>8.2f}{checks:>8}{secs / ref:>8.3f}{extra:>16.1f}{ms:>17.1f}"
              f"{ms * checks / 1000 / ref:>14.2%}")
    print("ms/check extra: the fit's time difference per check (noisy on a shared machine); "
          "ms/check logged: the logging call itself, median of 30 on one history row")


def call_ms(base, name: str, uri: str | None, row: dict, tmp: str) -> float:
    """Median milliseconds of the per-check logging call (what the callback adds to a check)."""
    sets = [f"tracking.logger={name}", *([f"tracking.uri={uri}"] if name == "mlflow" else [])]
    cfg = load_config(ROOT / "configs" / "default.yaml", [
        f"data.path={ROOT / 'data' / 'sample' / 'stocks.parquet'}", f"output_dir={tmp}", *sets])
    run = open_run(cfg, f"calls-{name}")
    logger = logger_for(run)
    times = []
    for step in range(30):
        start = time.perf_counter()
        log_metrics(run, row, step, logger)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


if __name__ == "__main__":
    main()
