"""Seconds the diagnosis and report.html add to a run on the bundled sample (budget: 3 s).

    .venv/bin/python bench/report_cost.py [--epochs 2]

Trains the default config (fewer epochs: the cost of diagnosis and report hardly depends on
them) with plain functions, then times what the flow's diagnose and report steps do: data
statistics + diagnosis, and report.html with its four figures, the first time in the process
(matplotlib's import included, as in a real run) and again. Printed next to the fit's own time.
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

from lstmflow.config import load_config  # noqa: E402
from lstmflow.data.ingest import drop_short_series, ingest  # noqa: E402
from lstmflow.data.prepare import prepare  # noqa: E402
from lstmflow.data.split import split_bounds  # noqa: E402
from lstmflow.fit.diagnosis import data_stats, diagnose  # noqa: E402
from lstmflow.fit.evaluate import collect_forecasts, forecast_frame, score  # noqa: E402
from lstmflow.fit.origins import predict_origins  # noqa: E402
from lstmflow.fit.train import save_history, train_model  # noqa: E402
from lstmflow.report.html import FORECASTS, REPORT_SERIES, write_report  # noqa: E402
from lstmflow.report.summary import metrics_block  # noqa: E402

BUDGET_S = 3.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "runs" / "bench"
        run_dir.mkdir(parents=True)
        cfg = load_config(ROOT / "configs" / "default.yaml", [
            f"data.path={ROOT / 'data' / 'sample' / 'stocks.parquet'}", f"output_dir={tmp}",
            f"training.max_epochs={args.epochs}"])
        frame, _ = drop_short_series(ingest(cfg.data).frame, cfg.min_history(), "drop", "")
        bounds = split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size)
        prep = prepare(frame, bounds, cfg)
        t = time.perf_counter()
        fit = train_model(prep.arrays, cfg)
        fit_s = time.perf_counter() - t
        save_history(fit.history, run_dir)
        h, season = cfg.forecast.horizon, cfg.evaluation.season
        stack, ends, zhat = predict_origins(fit.model, prep.arrays, cfg, "test")
        fcs = collect_forecasts(prep.arrays, stack, ends, zhat, prep.state, h, season)
        metrics = score(fcs, h)
        forecast_frame(fcs[:REPORT_SERIES]).to_parquet(run_dir / FORECASTS)

        t = time.perf_counter()
        stats = data_stats(prep.arrays, season, h, cfg.forecast.input_size)
        findings = diagnose(fit.history, metrics, stats, cfg.model_dump(mode="json"))
        diag_s = time.perf_counter() - t
        summary = {"run_id": "bench", "status": "completed", "run_dir": str(run_dir),
                   "config": cfg.model_dump(mode="json"), "warnings": [],
                   "metrics": metrics_block(metrics), "diagnosis": findings, "data_stats": stats}
        t = time.perf_counter()
        write_report(run_dir, summary)
        cold_s = time.perf_counter() - t
        t = time.perf_counter()
        write_report(run_dir, summary)
        warm_s = time.perf_counter() - t
    total = diag_s + cold_s
    print(f"fit ({args.epochs} epochs, {len(prep.arrays)} series): {fit_s:.2f} s")
    print(f"diagnosis (data statistics + findings): {diag_s:.3f} s")
    print(f"report.html: {cold_s:.2f} s first in the process (matplotlib import included), "
          f"{warm_s:.2f} s again")
    print(f"diagnosis + report: {total:.2f} s = {total / BUDGET_S:.0%} of the 3 s budget, "
          f"{total / fit_s:.2f}x this short fit")


if __name__ == "__main__":
    main()
