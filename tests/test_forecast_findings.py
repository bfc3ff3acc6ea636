"""flat_forecast, lagged_copy and short_context on real fits, named from what the run recorded
(the forecasts' shape in the metrics, the cycle in the data statistics), never from the config:
every diagnosis here is made blind, and a window as short on a series without a cycle is not
named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmflow.config import apply_overrides, build_config, load_config
from lstmflow.fit.diagnosis import diagnose
from lstmflow.fit.diagnosis.cycles import shortest_cycle
from lstmflow.fit.diagnosis.remedies import REMEDIES
from lstmflow.fit.diagnosis.shape import forecast_shape
from tests.conftest import CO2, ROOT, SAMPLE, co2_config, run, small_config_dict
from tests.test_diagnosis import blind, named

SHAPES = ("flat_forecast", "lagged_copy", "short_context")
# L1 at its bound drives the weights to zero within ~40 updates (the biases are not penalised);
# stride 4 (5 for 8-step segments): 347 windows, 6 steps of 64 a pass, 5 checks
COLLAPSE = ["training.l1_penalty=1.0", "training.window_stride=4", "training.max_steps=30",
            "training.val_check_steps=6"]


@pytest.mark.parametrize("target", ["diff", "level"])
def test_a_model_collapsed_by_l1_on_a_seasonal_series_is_flat_or_a_copy(target, tmp_path):
    """A difference target collapses to "no change" (the last value shifted); a level target
    to one value (a flat line)."""
    cfg = co2_config(tmp_path, *COLLAPSE, f"preprocess.target_transform={target}")
    attempt = run(cfg)
    found = blind(attempt)
    assert {"lagged_copy", "flat_forecast"} & set(named(found)), found
    shape = next(f for f in attempt.findings if f["finding"] in SHAPES)
    assert shape["series"] == ["co2_weekly"]
    assert "training.l1_penalty=0" in shape["remedy"]["overrides"]  # from the config's value


@pytest.fixture(scope="module")
def short_window(tmp_path_factory):
    """Weekly CO2 (a 52-week cycle) read through a window of 13 weeks."""
    cfg = co2_config(tmp_path_factory.mktemp("short"), "forecast.input_size=13",
                     "training.max_steps=6", "training.val_check_steps=2")  # 3 checks
    return run(cfg)


def test_a_window_of_a_quarter_season_is_short_context(short_window):
    found = blind(short_window)
    short = next(f for f in found if f["finding"] == "short_context")
    assert short["severity"] == "warning"
    assert "a cycle of 52 steps" in short["evidence"] and "window of 13 steps" in short["evidence"]
    assert "forecast.input_size=104" in short["remedy"]["overrides"]  # two cycles


def test_short_context_is_read_from_the_data_not_the_window(short_window, sample_slice, tmp_path):
    """The same short window on stock prices (no cycle) is not named; and the CO2 run's
    recorded cycle alone, with a window that reaches it, is not named either."""
    raw = small_config_dict(sample_slice, tmp_path, forecast={"horizon": 3, "input_size": 13})
    cfg = build_config(raw)
    stocks = run(cfg)
    assert all(s["cycle"] is None for s in stocks.stats["per_series"].values())
    assert "short_context" not in {f["finding"] for f in blind(stocks)}
    reaches = {**short_window.stats, "input_size": 52}
    assert "short_context" not in {f["finding"] for f in diagnose(
        short_window.history, short_window.metrics, reaches)}


def test_a_healthy_seasonal_run_gets_none_of_the_three(co2_healthy):
    attempt, _ = co2_healthy
    assert not {f["finding"] for f in blind(attempt)} & set(SHAPES)
    shape = attempt.metrics["shape"]["co2_weekly"]
    assert shape["spread"] > 0.5 and shape["error_corr"] < 0.9  # it moves, and not like naive


def test_the_default_config_on_the_stock_sample_gets_no_signal_not_a_failure(tmp_path):
    """Persistence is the best achievable on prices: said at info level, no blame."""
    # the step budget as chosen from the data (every origin, batch 64), cut to 3 checks
    cfg = load_config(ROOT / "configs" / "default.yaml",
                      [f"data.path={SAMPLE}", f"output_dir={tmp_path}", "training.max_steps=15",
                       "training.val_check_steps=5"])
    found = blind(run(cfg))
    kinds = {f["finding"]: f["severity"] for f in found}
    assert kinds.get("no_signal") == "info", found
    assert all(kinds.get(s, "info") == "info" for s in SHAPES), found
    for f in found:
        if f["finding"] in SHAPES:  # a copy of the last value there is expected, not a failure
            assert "expected" in f["evidence"] and not f["remedy"]["overrides"]


def test_the_shortest_cycle_of_real_series():
    co2 = pd.read_csv(CO2)["co2"].interpolate().to_numpy()
    assert shortest_cycle(co2)["lag"] == 52
    for _, g in pd.read_parquet(SAMPLE).groupby("Ticker"):  # prices: no cycle
        assert shortest_cycle(g["Adj Close"].to_numpy()) is None
    t = np.arange(4000)
    smooth = np.cumsum(np.cumsum(np.random.default_rng(0).normal(size=4000)))  # persistent
    assert shortest_cycle(smooth) is None
    assert shortest_cycle(np.sin(2 * np.pi * t / 24) + smooth * 1e-4)["lag"] == 24
    assert shortest_cycle(np.full(100, np.nan)) is None


def test_forecast_shape_of_a_copy_and_of_a_flat_line():
    rng = np.random.default_rng(1)
    level = np.cumsum(rng.normal(size=60))
    ends = np.arange(10, 50)
    actual = np.stack([level[e + 1: e + 5] for e in ends])  # [N, 4]
    naive = np.repeat(level[ends][:, None], 4, axis=1)
    ok = np.ones_like(actual, dtype=bool)
    copy = forecast_shape(actual, {"model": naive, "naive": naive, "seasonal_naive": naive}, ok)
    assert copy["error_corr"] == pytest.approx(1) and copy["move"] == 0
    flat = np.full_like(actual, level.mean())
    flat_shape = forecast_shape(actual, {"model": flat, "naive": naive, "seasonal_naive": naive},
                                ok)
    assert flat_shape["spread"] < 1e-12 and flat_shape["path_amp"] < 1e-12
    assert forecast_shape(actual[:3], {"model": naive[:3], "naive": naive[:3],
                                       "seasonal_naive": naive[:3]}, ok[:3]) is None


@pytest.mark.parametrize("lag", [None, 2, 52, 4000])
@pytest.mark.parametrize(("name", "cause"), [("flat_forecast", "horizon"),
                                             ("lagged_copy", None), ("short_context", None)])
def test_window_remedies_validate_for_any_cycle(name, cause, lag, tmp_path):
    """A cycle read from the data sets the window: two cycles, clamped to the field's bound."""
    base = co2_config(tmp_path, "forecast.input_size=13", "features.calendar=none",
                      "model.hidden_size=8", "training.l1_penalty=0.5").model_dump(mode="json")
    _, overrides = REMEDIES[name](base, cause, lag=lag)
    fixed = build_config(apply_overrides(base, overrides))
    assert fixed.forecast.input_size == max(13, min(5000, 2 * (lag or 52)))
    assert fixed.features.calendar == "auto"
    assert REMEDIES[name](base, "expected", lag=lag)[1] == []


def test_a_flat_line_is_told_to_loosen_and_forecast_changes(tmp_path):
    base = co2_config(tmp_path, "training.l1_penalty=0.5", "preprocess.target_transform=level",
                      "model.hidden_size=8").model_dump(mode="json")
    _, overrides = REMEDIES["flat_forecast"](base, None)
    assert overrides == ["training.l1_penalty=0", "preprocess.target_transform=diff",
                         "model.hidden_size=32"]
    build_config(apply_overrides(base, overrides))


def _copy_frame(n: int = 60, horizon: int = 4) -> pd.DataFrame:
    """Forecasts of real weekly CO2 by a model that copies the last value (forecasts.parquet)."""
    y = pd.read_csv(CO2)["co2"].interpolate().to_numpy()[-(n + horizon + 1):]
    times = pd.date_range("2000-01-01", periods=len(y), freq="W-SAT")
    rows = [{"series_id": "co2_weekly", "origin": times[o], "step": h, "time": times[o + h],
             "actual": y[o + h], "model": y[o], "naive": y[o], "seasonal_naive": y[o] - 1}
            for o in range(n) for h in range(1, horizon + 1)]
    return pd.DataFrame(rows)


def test_the_report_shows_forecasts_from_a_few_origins_next_to_the_finding(tmp_path):
    from lstmflow.report.html import build_html
    from lstmflow.report.summary import metrics_block, metrics_from_block

    copy = {"finding": "lagged_copy", "severity": "warning", "series": ["co2_weekly"],
            "evidence": "the model's errors correlate 1.000 with naive's",
            "remedy": {"advice": "Loosen the regularisation.", "overrides": []}}
    summary = {"run_id": "r", "status": "completed", "diagnosis": [copy, {**copy}]}
    html = build_html(summary, [], _copy_frame())
    assert html.count("alt='forecasts from a few test origins'") == 1  # once, not per finding
    assert html.index("The forecast copies the last value") < html.index(
        "forecasts from a few test origins") < html.index("Forecasts on the test period")
    assert "Forecasts from a few test origins of co2_weekly" in html
    plain = build_html({**summary, "diagnosis": [{**copy, "finding": "plateau"}]}, [],
                       _copy_frame())
    assert "forecasts from a few test origins" not in plain
    metrics = {"overall": {}, "per_series": {}, "shape": {"co2_weekly": {"spread": 1.0}}}
    assert metrics_from_block(metrics_block(metrics))["shape"] == metrics["shape"]


def test_only_persistence_is_excused_on_an_unpredictable_series():
    """On a random walk a copy of the last value is the best achievable (info, no remedy); a
    flat line at one value is not (warning)."""
    history = [{"epoch": i, "train_loss": 0.5 - 0.01 * i, "val_loss": 0.5 - 0.01 * i}
               for i in range(4)]
    stats = {"input_size": 10, "per_series": {"a": {"predictability": -0.02}}}

    def found(shape: dict, mae: float) -> dict[str, str]:
        per = {"a": {"model": {"mae": mae}, "naive": {"mae": 1.0},
                     "seasonal_naive": {"mae": 1.3}}}
        metrics = {"overall": {}, "per_series": per, "shape": {"a": shape}}
        return {f["finding"]: f["severity"] for f in diagnose(history, metrics, stats)}

    paths = {"path_amp": 0.0, "seasonal_path_skill": -1.0, "actual_sd": 1.0}
    copy = found({**paths, "spread": 1.0, "model_sd": 1.0, "error_corr": 0.99, "move": 0.05},
                 1.01)
    flat = found({**paths, "spread": 0.1, "model_sd": 0.1, "error_corr": 0.2, "move": 3.0}, 3.0)
    assert copy["lagged_copy"] == "info" and "flat_forecast" not in copy
    assert flat["flat_forecast"] == "warning" and "lagged_copy" not in flat
