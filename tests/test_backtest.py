"""The backtest flow through the Prefect test harness: real GE, real Lightning, real task
runners (a thread pool and a local Dask cluster on loopback)."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from lstmflow.config import build_config
from tests.conftest import small_config_dict

FOLDS = {"folds": 2, "step": 30}
TINY_CO2 = ["quality.enabled=false", "model.loss=mse", "model.hidden_size=8", "model.num_layers=1",
            "training.max_steps=8", "training.val_check_steps=4", "training.window_stride=16",
            "evaluation.test_size=30", "backtest.folds=2", "runtime.workers=2"]
# what a fold computed: equal across runners and untouched by later data, to the last bit
SAME = ("cutoff", "test_start", "test_end", "train_rows", "metrics", "beats", "diagnosis")


def backtest(csv, out, run_id, **runtime):
    from flows.backtest import backtest_flow

    cfg = build_config(small_config_dict(
        csv, out, backtest=FOLDS, runtime={"concurrent_runs": 1, "workers": 2, **runtime}))
    state = backtest_flow(cfg, run_id=run_id, return_state=True)
    run_dir = out / "runs" / run_id
    return state, json.loads((run_dir / "backtest.json").read_text()), run_dir


def fold_core(record: dict) -> dict:
    core = {k: record.get(k) for k in SAME}
    core["training"] = {k: v for k, v in record["training"].items() if k != "seconds"}
    return core


@pytest.fixture(scope="module")
def on_threads(prefect_harness, sample_slice, tmp_path_factory):
    return backtest(sample_slice, tmp_path_factory.mktemp("bt"), "threads")


def test_backtest_writes_every_fold_with_its_results(on_threads):
    state, summary, run_dir = on_threads
    assert state.is_completed(), state.message
    assert summary["status"] == "completed" and summary["step"] == 30
    folds = summary["folds"]
    assert [f["fold"] for f in folds] == [0, 1] and all(f["status"] == "completed" for f in folds)
    assert folds[0]["cutoff"] < folds[0]["test_start"] <= folds[0]["test_end"]
    assert folds[0]["test_end"] == folds[1]["cutoff"]  # step = test size: windows side by side
    assert folds[1]["train_rows"] - folds[0]["train_rows"] == 2 * 30  # two series, 30 steps on
    for f in folds:
        assert f["seconds"] > 0 and f["torch_threads"] == 1
        assert f["input_gate"]["success"] and f["diagnosis"]
        for m in ("model", "naive", "seasonal_naive"):
            assert f["metrics"][m]["mae"] > 0 and set(f["metrics"][m]["per_series"]) == {
                "AAPL", "MSFT"}
        assert set(f["beats"]) == {"naive", "seasonal_naive"}
        assert (run_dir / "folds" / str(f["fold"]) / "history.json").is_file()
        assert len(pd.read_parquet(run_dir / "folds" / str(f["fold"]) / "forecasts.parquet"))
    # both folds ran at once, in two threads of this process
    assert {f["where"].split()[2] for f in folds} == {str(os.getpid())}
    assert len({f["where"] for f in folds}) == 2
    across = summary["across"]
    maes = [f["metrics"]["model"]["mae"] for f in folds]
    assert across["metrics"]["model"]["mae"]["mean"] == pytest.approx(np.mean(maes))
    assert across["metrics"]["model"]["mae"]["std"] == pytest.approx(np.std(maes, ddof=1))
    wins = sum(f["beats"]["naive"] for f in folds)
    assert across["beats"]["naive"] == wins / 2 and across["wins"]["naive"] == wins
    covered = [f["metrics"]["calibration"]["levels"]["80"]["coverage"] for f in folds]
    assert across["intervals"]["80"]["coverage"]["mean"] == pytest.approx(np.mean(covered))
    assert set(across["intervals"]) == {"80", "95"} and across["intervals"]["95"]["nominal"] == 0.95
    assert summary["gate"]["success"] and summary["data_fingerprint"]
    html = (run_dir / "backtest.html").read_text()
    assert summary["report_path"] == str((run_dir / "backtest.html").resolve())
    for part in ("Across folds", "Error by fold", "Fold 0: cut-off", "Fold 1: cut-off",
                 "Config used"):
        assert part in html
    assert html.count("<img") == 3  # the error by fold, then forecasts of each fold


def test_the_flow_publishes_a_table_of_folds(on_threads):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    state = on_threads[0]
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["backtest-folds", "backtest-summary", "backtest-report"])))
    mine = [a for a in arts if a.flow_run_id == state.state_details.flow_run_id]
    assert {a.key for a in mine} == {"backtest-folds", "backtest-summary", "backtest-report"}
    table = next(a for a in mine if a.key == "backtest-folds").data
    rows = json.loads(table) if isinstance(table, str) else table
    assert [r["fold"] for r in rows] == [0, 1, "mean", "std"]


def test_lstmflow_report_rebuilds_a_backtests_page_from_its_folder(on_threads, capsys):
    from lstmflow.cli import main

    _, _, run_dir = on_threads
    page = run_dir / "backtest.html"
    before = page.read_text()
    page.unlink()
    assert main(["report", run_dir.name, "--output-dir", str(run_dir.parent.parent)]) == 0
    assert capsys.readouterr().out.strip() == str(page.resolve())
    assert page.read_text() == before


def test_values_after_a_folds_test_window_change_nothing_in_that_fold(on_threads, sample_slice,
                                                                      tmp_path):
    """Every value after fold 0's test window is changed (all columns, every series): fold 0's
    metrics, fit and diagnosis stay bit-identical; fold 1, which sees those rows, changes."""
    _, base, _ = on_threads
    end = pd.Timestamp(base["folds"][0]["test_end"])
    df = pd.read_csv(sample_slice, parse_dates=["Date"])
    later = df["Date"] > end
    assert later.sum() >= 2 * 25  # 30 grid steps per series, less market holidays
    values = ["Open", "High", "Low", "Close", "Volume", "Adj Close"]
    df[values] = df[values].astype("float64")
    noise = np.random.default_rng(0).uniform(0.9, 1.1, (int(later.sum()), len(values)))
    df.loc[later, values] = df.loc[later, values].to_numpy() * noise
    df.to_csv(tmp_path / "changed.csv", index=False)
    state, changed, _ = backtest(tmp_path / "changed.csv", tmp_path / "out", "changed")
    assert state.is_completed(), state.message
    assert changed["data_fingerprint"] != base["data_fingerprint"]
    assert fold_core(changed["folds"][0]) == fold_core(base["folds"][0])
    assert changed["folds"][1]["metrics"] != base["folds"][1]["metrics"]


def test_the_dask_runner_gives_the_same_folds_as_the_thread_runner(on_threads, sample_slice,
                                                                   tmp_path):
    _, threads, _ = on_threads
    state, dask, _ = backtest(sample_slice, tmp_path, "dask", runner="dask")
    assert state.is_completed(), state.message
    assert dask["fan_out"]["runner"] == "dask" and dask["fan_out"]["workers"] == 2
    assert str(os.getpid()) not in {f["where"].split()[2] for f in dask["folds"]}
    assert len({f["where"].split()[2] for f in dask["folds"]}) == 2  # two worker processes
    for a, b in zip(threads["folds"], dask["folds"], strict=True):
        assert fold_core(a) == fold_core(b)


def test_a_fold_whose_fit_breaks_fails_the_run_after_every_fold_is_kept(prefect_harness,
                                                                        tmp_path):
    """A corrupt value inside fold 1's validation rows (gates off) breaks fold 1's fit; it lies
    in fold 0's test window only, so fold 0 trains as usual. The run ends Failed naming fold 1
    and still writes both folds, backtest.json and backtest.html."""
    from flows.backtest import backtest_flow
    from lstmflow.config import load_config
    from tests.conftest import ROOT

    df = pd.read_csv(ROOT / "data" / "sample" / "co2_weekly.csv")
    df.loc[len(df) - 45, "co2"] = 1e30  # fold 1: validation; fold 0: test
    df.to_csv(tmp_path / "co2.csv", index=False)
    out = tmp_path / "out"
    where = [f"data.path={tmp_path / 'co2.csv'}", f"output_dir={out}"]
    cfg = load_config(ROOT / "configs" / "co2.yaml", [*where, *TINY_CO2])
    state = backtest_flow(cfg, run_id="broken", return_state=True)
    assert state.is_failed()
    assert state.message.startswith("1 of 2 folds failed: fold 1: the fit broke (divergence)")
    run_dir = out / "runs" / "broken"
    summary = json.loads((run_dir / "backtest.json").read_text())
    f0, f1 = summary["folds"]
    assert f0["status"] == "completed" and f0["metrics"]["model"]["mae"] > 1e20
    assert f1["status"] == "failed" and f1["diagnosis"][0]["finding"] == "divergence"
    assert summary["across"]["completed"] == 1 and summary["across"]["failed"] == [1]
    assert (run_dir / "backtest.html").is_file() and (run_dir / "folds" / "1" / "history.json").is_file()


def test_every_future_is_resolved_and_a_raising_call_comes_back_as_its_error(prefect_harness):
    from prefect import flow, task

    from flows.runners import run_all
    from lstmflow.runtime import FanOut

    @task
    def invert(x: float) -> float:
        return 1 / x

    @flow
    def fan():
        return run_all(invert, [{"x": 2.0}, {"x": 0.0}, {"x": 4.0}], FanOut("thread", 2, 1))

    out = fan()
    assert out[0] == 0.5 and out[2] == 0.25
    assert isinstance(out[1], ZeroDivisionError)


def test_cli_refuses_a_bad_flag_before_any_work(sample_slice, tmp_path, capsys):
    import yaml

    from lstmflow.cli import main

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(small_config_dict(sample_slice, tmp_path / "out")))
    assert main(["backtest", "--config", str(path), "--folds", "0"]) == 2
    assert "config key 'backtest.folds'" in capsys.readouterr().err
    assert main(["backtest", "--config", str(path), "--runner", "dask",
                 "--dask-address", "nohost"]) == 2
    assert "config key 'runtime.dask_address'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
