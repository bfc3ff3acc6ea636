"""Shared fixtures: one Prefect test harness per session, tiny real data, small configs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "stocks.parquet"


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect API for the whole session (entering costs ~16 s): request it
    only from tests that run flows, so plain-function tests never pay for it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def cli_runner(prefect_harness, tmp_path_factory):
    """Starts real `lstmflow` processes cheaply: forkserver children on the session's Prefect
    API (tests/crashkit.py), for the kill harness and the concurrency tests."""
    from prefect.settings import PREFECT_API_URL

    from tests.crashkit import Runner

    return Runner(PREFECT_API_URL.value(), tmp_path_factory.mktemp("children"))


@pytest.fixture(scope="session")
def sample_slice(tmp_path_factory) -> Path:
    """The last ~600 business days of two real sample series, as a small CSV."""
    df = pd.read_parquet(SAMPLE)
    df = df[df["Ticker"].isin(["AAPL", "MSFT"])]
    df = df.groupby("Ticker").tail(600)
    path = tmp_path_factory.mktemp("data") / "slice.csv"
    df.to_csv(path, index=False)
    return path


def small_config_dict(path: Path, out: Path, **overrides) -> dict:
    """A config small enough to train in seconds on `sample_slice`."""
    cfg = {
        "name": "test",
        "data": {"path": str(path), "timestamp_column": "Date", "series_column": "Ticker",
                 "target_column": "Adj Close", "freq": "B"},
        "forecast": {"horizon": 3, "input_size": 24},
        "preprocess": {"target_transform": "log_return"},
        "features": {"rolling_mean_windows": [5], "volatility_windows": [10]},
        "model": {"hidden_size": 16, "num_layers": 1, "dropout": 0.0},
        # the step budget users run by default, small: 198 windows of the slice (stride 4,
        # raised to 5 for 2-step segments) in batches of 64 are about 4 steps a pass, so 3
        # validation checks (3 history rows, 3 Lightning epochs) of 4 steps each
        "training": {"max_steps": 12, "val_check_steps": 4, "batch_size": 64, "patience": 2,
                     "window_stride": 4},
        "evaluation": {"test_size": 30, "val_size": 60, "season": 5},
        "output_dir": str(out),
    }
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            cfg[section][field] = value
        else:
            cfg[section] = value
    return cfg


# a single fit of a few validation checks on `sample_slice`, no repair, one torch thread
SINGLE_FIT = {"max_steps": 40, "val_check_steps": 10, "min_steps": 20, "patience": 2,
              "batch_size": 32, "window_stride": 4, "auto_repair": 0}


def single_fit_config(path: Path, out: Path, training: dict | None = None, **overrides):
    """`small_config_dict` with SINGLE_FIT (updated by `training`) as its training section."""
    from lstmflow.config import build_config

    raw = small_config_dict(path, out, **overrides)
    raw["training"] = {**SINGLE_FIT, **(training or {})}
    raw["runtime"] = {"torch_threads": 1}
    return build_config(raw)


@pytest.fixture
def small_cfg(sample_slice, tmp_path):
    from lstmflow.config import build_config

    return build_config(small_config_dict(sample_slice, tmp_path / "out"))


def random_walk(n: int, seed: int = 0, start: str = "2020-01-01", freq: str = "D") -> pd.DataFrame:
    """A positive random-walk series for tests that need generated shapes (gaps, spikes)."""
    rng = np.random.default_rng(seed)
    values = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pd.DataFrame({"date": pd.date_range(start, periods=n, freq=freq), "value": values})


# --- real fits the diagnosis tests share: the weekly CO2 sample, a small fast model -------------
CO2 = ROOT / "data" / "sample" / "co2_weekly.csv"
FAST = ["model.hidden_size=16", "model.num_layers=1", "training.batch_size=64",
        "training.window_stride=16", "training.learning_rate=0.01"]
# FAST's 102 training windows are 2 steps of 64 a pass: 12 checks of 2 steps
HEALTHY = ["training.max_steps=24", "training.val_check_steps=2"]


def co2_config(out: Path, *sets: str):
    from lstmflow.config import load_config

    return load_config(ROOT / "configs" / "co2.yaml",
                       [f"data.path={CO2}", f"output_dir={out}", *FAST, *sets])


def prepared(cfg, scale_test: float | None = None):
    """Ingest > drop short series > split > prepare as the flow does (the core's Forecaster);
    `scale_test` multiplies the test period."""
    from lstmflow.core import Forecaster
    from lstmflow.data.ingest import drop_short_series, ingest

    frame = ingest(cfg.data).frame
    frame, _ = drop_short_series(frame, cfg.min_history(), cfg.data.short_series, cfg.data.path)
    forecaster = Forecaster(cfg)
    bounds = forecaster.split(frame)
    if scale_test:
        for sid, b in bounds.items():
            rows = frame.index[frame["series_id"].astype(str) == sid][b.val_end:]
            frame.loc[rows, "target"] *= scale_test
    return forecaster.prepare(frame, bounds)


def run(cfg, scale_test: float | None = None):
    """The core's fit > evaluate > diagnose on `prepared(cfg, scale_test)`."""
    from lstmflow.core import Forecaster

    return Forecaster(cfg).run(prepared(cfg, scale_test))


@pytest.fixture(scope="session")
def co2_healthy(tmp_path_factory):
    """A healthy fit on weekly CO2 (window two seasons) and its config, fitted once."""
    cfg = co2_config(tmp_path_factory.mktemp("healthy"), *HEALTHY)
    return run(cfg), cfg


# --- registered versions without a fit: a real fitted state, an untrained network ----------------
GATES_PASSED = {"ingested": True, "model-inputs": True}


def register_version(cfg, run_id: str, seed: int = 0, metrics: dict | None = None, **register_kw):
    """Ingest > split > prepare `cfg`'s data as the flow does, and register an untrained network
    (seeded: each seed forecasts differently) on that fitted state; returns what a challenger
    needs (frame, bounds, prepared, model, meta) and what `register` said."""
    import torch

    from lstmflow.core import Fitted, Forecaster
    from lstmflow.data.ingest import drop_short_series, ingest
    from lstmflow.fit.model import build_model
    from lstmflow.serve.manifest import data_record
    from lstmflow.serve.register import register
    from lstmflow.serve.registry import registry_dir

    data = ingest(cfg.data)
    frame, data.report["short_series_dropped"] = drop_short_series(
        data.frame, cfg.min_history(), cfg.data.short_series, cfg.data.path)
    forecaster = Forecaster(cfg)
    bounds = forecaster.split(frame)
    prepared = forecaster.prepare(frame, bounds)
    model = build_model(cfg, prepared.arrays[0].x.shape[1], n_known=prepared.arrays[0].n_known,
                        generator=torch.Generator().manual_seed(seed))
    meta = {"run_id": run_id, "data_fingerprint": data.report["fingerprint"],
            "gates": GATES_PASSED, "diagnosis": [], "data": data_record(data.report, bounds)}
    metrics = metrics or {"overall": {"model": {"mae": 1.0}}, "per_series": {
        s: {"model": {"mae": 1.0}, "naive": {"mae": 2.0}, "seasonal_naive": {"mae": 3.0}}
        for s in bounds}}
    root = registry_dir(cfg.output_dir, cfg.name)
    out = register(root, Fitted(cfg, model, prepared.state), metrics, meta, frame, bounds,
                   **register_kw)
    return {"root": root, "frame": frame, "bounds": bounds, "prepared": prepared, "model": model,
            "meta": meta, "result": out}
