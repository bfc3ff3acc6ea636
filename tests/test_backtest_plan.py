"""Backtest as plain functions: the fold plan, the fold slices, fan-out sizing, the results
across folds and the config's refusals (no Prefect)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmflow.backtest.plan import backtest_rows, fold_dates, fold_frame, fold_step, plan_folds
from lstmflow.backtest.results import across_folds, spread
from lstmflow.config import ConfigError, RuntimeConfig, build_config
from lstmflow.data.schema import SERIES, TIME, DataError
from lstmflow.runtime import fan_out
from tests.test_preprocess import make_frame


def cfg_of(**backtest):
    return build_config({
        "data": {"path": "unused.csv", "timestamp_column": "t"},
        "forecast": {"horizon": 2, "input_size": 10},
        "evaluation": {"val_size": 20, "test_size": 10},
        "backtest": backtest,
    })


def frame_of(lengths: dict[str, int]):
    parts = [make_frame(n, series=(s,), seed=i) for i, (s, n) in enumerate(lengths.items())]
    import pandas as pd

    return pd.concat(parts, ignore_index=True)


def test_expanding_folds_end_step_apart_at_the_end_of_each_series():
    cfg = cfg_of(folds=3, step=7)
    frame = frame_of({"A": 120, "B": 90})
    folds = plan_folds(frame, cfg)
    assert [f.index for f in folds] == [0, 1, 2]
    assert [f.rows["A"] for f in folds] == [(0, 106), (0, 113), (0, 120)]
    assert [f.rows["B"] for f in folds] == [(0, 76), (0, 83), (0, 90)]  # its own end
    newest = fold_frame(frame, folds[-1])
    assert newest.equals(frame)  # the newest fold tests on what a training run tests on


def test_default_step_is_the_test_size_and_sliding_keeps_the_oldest_folds_length():
    cfg = cfg_of(folds=3, window="sliding")
    assert fold_step(cfg) == 10
    folds = plan_folds(frame_of({"A": 120}), cfg)
    assert [f.rows["A"] for f in folds] == [(0, 100), (10, 110), (20, 120)]
    sized = plan_folds(frame_of({"A": 120}), cfg_of(folds=2, window="sliding", window_size=50))
    assert [f.rows["A"] for f in sized] == [(60, 110), (70, 120)]


def test_a_fold_frame_holds_its_rows_only_in_order():
    frame = frame_of({"A": 100, "B": 80})
    fold = plan_folds(frame, cfg_of(folds=2, step=15, window="sliding"))[0]
    part = fold_frame(frame, fold)
    for sid, (start, end) in fold.rows.items():
        rows = frame[frame[SERIES] == sid].iloc[start:end]
        got = part[part[SERIES] == sid]
        assert np.array_equal(got[TIME].to_numpy(), rows[TIME].to_numpy())
        assert np.array_equal(got["target"].to_numpy(), rows["target"].to_numpy())
    dates = fold_dates(part, 10)
    a = frame[frame[SERIES] == "A"].reset_index(drop=True)
    assert dates["test_end"] == a[TIME][84].strftime("%Y-%m-%d")  # A: 100 - 15 rows
    assert dates["cutoff"] == a[TIME][74].strftime("%Y-%m-%d")  # the last row before the test


def test_series_too_short_for_every_fold_and_small_windows_are_refused():
    cfg = cfg_of(folds=4, step=10)
    assert backtest_rows(cfg) == 10 + 2 + 20 + 10 + 3 * 10
    with pytest.raises(DataError, match=r"\(backtest.folds - 1\) x step = 72 rows \('B' has 60\)"):
        plan_folds(frame_of({"A": 100, "B": 60}), cfg)
    with pytest.raises(ConfigError, match=r"backtest\.window_size': 30 rows"):
        plan_folds(frame_of({"A": 100}), cfg_of(window="sliding", window_size=30))


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("backtest.folds", 0, "greater than or equal to 1"),
    ("backtest.step", 0, "greater than or equal to 1"),
    ("backtest.window", "rolling", "'expanding' or 'sliding'"),
    ("runtime.runner", "spark", "'thread' or 'dask'"),
    ("runtime.workers", -1, "greater than or equal to 0"),
    ("runtime.dask_address", "localhost:8786", "should match pattern"),
])
def test_bad_backtest_and_runner_keys_are_refused_naming_the_key(key, value, rule):
    section, field = key.split(".")
    raw = {"data": {"path": "a", "timestamp_column": "t"}, section: {field: value}}
    with pytest.raises(ConfigError, match=rf"config key '{key}': .*{rule}"):
        build_config(raw)


def test_the_form_titles_the_new_section_and_shows_bounds():
    from lstmflow.config import PipelineConfig

    props = PipelineConfig.model_json_schema()["properties"]
    assert props["backtest"]["title"] == "Backtest: walk-forward folds"
    fields = PipelineConfig.model_json_schema()["$defs"]["BacktestConfig"]["properties"]
    assert "Allowed: 1 to 100." in fields["folds"]["description"]


@pytest.mark.parametrize(("runtime", "cores", "jobs", "expected"), [
    ({}, 16, 4, (4, 2)),  # 16 cores / 2 runs = 8 for this run: 4 folds x 2 threads
    ({}, 16, 20, (8, 1)),  # more folds than cores: one thread each
    ({"concurrent_runs": 1}, 2, 4, (2, 1)),
    ({}, 2, 4, (1, 1)),  # this run's share of 2 cores is 1: folds one after the other
    ({"torch_threads": 2}, 16, 10, (4, 2)),
    ({"workers": 3}, 16, 10, (3, 2)),
    ({"workers": 6}, 16, 2, (2, 4)),  # never more workers than folds
    ({"runner": "dask", "concurrent_runs": 1}, 8, 3, (3, 2)),
])
def test_fan_out_never_asks_for_more_threads_than_the_runs_cores(runtime, cores, jobs, expected,
                                                                 monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    plan = fan_out(RuntimeConfig(**runtime), jobs, cores=cores)
    assert (plan.workers, plan.torch_threads) == expected
    assert plan.runner == runtime.get("runner", "thread") and plan.address is None


def test_an_existing_dask_cluster_sizes_itself(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    plan = fan_out(RuntimeConfig(runner="dask", dask_address="tcp://10.0.0.5:8786"), 4, cores=2)
    assert (plan.runner, plan.workers, plan.torch_threads) == ("dask", 0, 0)
    assert "tcp://10.0.0.5:8786" in plan.describe()
    # an address is ignored by the thread runner
    plan = fan_out(RuntimeConfig(dask_address="tcp://10.0.0.5:8786", concurrent_runs=1), 4, cores=2)
    assert (plan.runner, plan.workers, plan.address) == ("thread", 2, None)


def _record(fold, model_mae, naive_mae=1.0, snaive_mae=1.0, status="completed"):
    block = {m: {"mae": v, "rmse": v, "smape": v, "mase": v, "rel_mae": v / naive_mae}
             for m, v in (("model", model_mae), ("naive", naive_mae),
                          ("seasonal_naive", snaive_mae))}
    block["model"]["rel_mae_vs_seasonal_naive"] = model_mae / snaive_mae
    rec = {"fold": fold, "status": status, "seconds": 1.0}
    if status == "completed":
        from lstmflow.backtest.fold import beats

        rec.update(metrics=block, beats=beats(block))
    return rec


def test_across_folds_gives_mean_spread_and_win_shares():
    records = [_record(0, 1.0, 2.0, 0.5), _record(1, 3.0, 2.0, 4.0), _record(2, 1.0, 2.0, 2.0),
               _record(3, 0, status="failed")]
    out = across_folds(records)
    assert (out["folds"], out["completed"], out["failed"]) == (4, 3, [3])
    mae = out["metrics"]["model"]["mae"]
    assert mae["mean"] == pytest.approx(5 / 3) and mae["std"] == pytest.approx(np.std([1, 3, 1],
                                                                                     ddof=1))
    assert (mae["min"], mae["max"], mae["n"]) == (1.0, 3.0, 3)
    assert out["wins"] == {"naive": 2, "seasonal_naive": 2, "both": 1}
    assert out["beats"]["naive"] == pytest.approx(2 / 3)
    assert spread([None, float("nan")])["mean"] is None and spread([2.0])["std"] == 0.0
