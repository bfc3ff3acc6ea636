"""Seconds the diagnosis and report.html add to a run on the bundled sample (budget: 3 s).

    .venv/bin/python bench/report_cost.py [--steps 10 --check-steps 5]

Trains the default config (a short step budget: the cost of diagnosis and report hardly depends
on it) with plain functions, then times what the flow's diagnose and report steps do: data
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
from lstmflow.core import Forecaster  # noqa: E402
from lstmflow.data.ingest import drop_short_series, ingest  # noqa: E402
from lstmflow.fit.evaluate import forecast_frame  # noqa: E402
from lstmflow.fit.train import save_history  # noqa: E402
from lstmflow.report.html import FORECASTS, REPORT_SERIES, write_report  # noqa: E402
from lstmflow.report.summary import metrics_block  # noqa: E402

BUDGET_S = 3.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10, help="training.max_steps")
    ap.add_argument("--check-steps", type=int, default=5, help="training.val_check_steps")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "runs" / "bench"
        run_dir.mkdir(parents=True)
        cfg = load_config(ROOT / "configs" / "default.yaml", [
            f"data.path={ROOT / 'data' / 'sample' / 'stocks.parquet'}", f"output_dir={tmp}",
            f"training.max_steps={args.steps}", f"training.val_check_steps={args.check_steps}"])
        frame, _ = drop_short_series(ingest(cfg.data).frame, cfg.min_history(), "drop", "")
        forecaster = Forecaster(cfg)
        t = time.perf_counter()
        fit = forecaster.fit(frame)
        fit_s = time.perf_counter() - t
        save_history(fit.history, run_dir)
        evaluation = forecaster.evaluate(fit)
        metrics = evaluation.metrics
        forecast_frame(evaluation.forecasts.series[:REPORT_SERIES]).to_parquet(run_dir / FORECASTS)

        t = time.perf_counter()
        diagnosis = forecaster.diagnose(fit, metrics)
        findings, stats = diagnosis.findings, diagnosis.stats
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
    print(f"fit ({args.steps} steps, {len(fit.history)} checks, {len(fit.prepared.arrays)} "
          f"series): {fit_s:.2f} s")
    print(f"diagnosis (data statistics + findings): {diag_s:.3f} s")
    print(f"report.html: {cold_s:.2f} s first in the process (matplotlib import included), "
          f"{warm_s:.2f} s again")
    print(f"diagnosis + report: {total:.2f} s = {total / BUDGET_S:.0%} of the 3 s budget, "
          f"{total / fit_s:.2f}x this short fit")


if __name__ == "__main__":
    main()
