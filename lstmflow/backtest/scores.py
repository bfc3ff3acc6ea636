"""Calibrating intervals on a backtest (`forecast.calibration: backtest`): every fold keeps its
test errors as nonconformity scores (`folds/<k>/scores.parquet`), and a training run of the same
config finds the newest completed backtest and calibrates on all its folds' scores instead of
its own validation errors: out-of-sample errors of models fitted as the run fits, over several
periods, so more scores and better tails (plain functions)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.records.backtest import BacktestSummary
from lstmflow.serve.manifest import canonical_sha256, effective_config
from lstmflow.store.location import local_dir

SCORES = "scores.parquet"
BACKTEST_JSON = "backtest.json"
# what may differ between the backtest and the run it calibrates: how the backtest was laid out,
# the search, and the choice of calibration itself
IGNORED = ("backtest", "tune")


def scores_path(run_dir: Path, fold: int) -> Path:
    return Path(run_dir) / "folds" / str(fold) / SCORES


def same_model(cfg: PipelineConfig) -> str:
    """What a backtest must share with a run to calibrate it: its effective config but for the
    backtest's own layout, the search and forecast.calibration."""
    raw = effective_config(cfg.model_dump(mode="json"))
    raw = {k: v for k, v in raw.items() if k not in IGNORED}
    raw["forecast"] = {k: v for k, v in raw["forecast"].items() if k != "calibration"}
    return canonical_sha256(raw)


def backtest_scores(cfg: PipelineConfig) -> tuple[tuple[str, pd.DataFrame] | None, str]:
    """((where, scores), what was found) from the newest completed backtest of this config under
    `output_dir/runs/`, or (None, why not)."""
    from lstmflow.config import build_config

    runs = local_dir(cfg.output_dir) / "runs"
    found = sorted(runs.glob(f"*/{BACKTEST_JSON}"), reverse=True) if runs.is_dir() else []
    want = same_model(cfg)
    for path in found:
        try:
            summary = BacktestSummary.read(path)
            if summary.status != "completed" or same_model(build_config(summary.config)) != want:
                continue
        except Exception:  # an unreadable or older backtest is no calibration
            continue
        parts = [pd.read_parquet(p) for f in summary.folds
                 if (p := scores_path(path.parent, f.fold)).is_file()]
        if not parts:
            continue
        table = pd.concat(parts, ignore_index=True)
        where = (f"backtest {path.parent.name} ({len(parts)} folds, {len(table)} out-of-sample "
                 "scores)")
        return (where, table), where
    return None, (f"no completed backtest of this config under '{runs}' kept fold scores "
                  "(run `lstmflow backtest --config ...` first): calibrated on validation")
