"""Evaluation: baselines by hand, same points for every method (promotion: test_promotion.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmflow.data.scale import inverse_target
from lstmflow.fit.evaluate import baseline_forecasts, relative_mae
from lstmflow.serve.promote import decide


def test_naive_and_seasonal_naive_by_hand():
    level = np.arange(10, dtype=float) * 10  # 0, 10, ..., 90
    ends = np.array([5, 7])
    b = baseline_forecasts(level, ends, horizon=4, season=3)
    assert b["naive"].tolist() == [[50] * 4, [70] * 4]
    # season 3 from origin 5: targets 6,7,8,9 -> values at 3,4,5,6-3=3 -> 30,40,50,30
    assert b["seasonal_naive"].tolist() == [[30, 40, 50, 30], [50, 60, 70, 50]]


def test_seasonal_naive_never_reads_past_the_origin():
    level = np.arange(50, dtype=float)
    ends = np.arange(10, 40)
    for season in (1, 2, 5, 7):
        s = baseline_forecasts(level, ends, horizon=9, season=season)["seasonal_naive"]
        assert (s <= level[ends][:, None]).all()


def test_seasonal_naive_before_the_first_season_is_missing():
    b = baseline_forecasts(np.arange(5, dtype=float), np.array([0]), horizon=2, season=4)
    assert np.isnan(b["seasonal_naive"]).all()


def test_inverse_target_round_trips():
    rng = np.random.default_rng(0)
    level = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 30)))
    origin, future = level[:-5], np.lib.stride_tricks.sliding_window_view(level[1:], 5)
    for kind, z in (
        ("diff", np.diff(np.lib.stride_tricks.sliding_window_view(level, 6), axis=1)),
        ("log_return", np.diff(np.log(np.lib.stride_tricks.sliding_window_view(level, 6)), axis=1)),
    ):
        back = inverse_target(kind, z, origin)
        np.testing.assert_allclose(back, future, rtol=1e-12)


def test_mase_scale_is_the_in_sample_seasonal_naive_error():
    from lstmflow.fit.scores import mase_scale

    level = np.array([1.0, 3.0, 2.0, np.nan, 6.0, 8.0, 100.0])
    # training rows 0..5, season 2: |2-1|, (nan), |6-2|, (nan) -> mean 2.5; row 6 (test) ignored
    assert mase_scale(level, 6, season=2) == (2.5, 2)
    # season 1 is the one-step naive error: |3-1|, |2-3|, |8-6| -> 5/3
    assert mase_scale(level, 6, season=1) == (pytest.approx(5 / 3), 1)
    # no pair one season apart in the training rows: falls back to one-step naive
    assert mase_scale(level, 6, season=10) == (pytest.approx(5 / 3), 1)
    assert np.isnan(mase_scale(np.ones(6), 5, season=2)[0])  # constant: no scale, MAE decides


def test_a_panel_is_not_decided_by_its_largest_series():
    """Pooled MAE favours whoever wins on the big-price series; the geometric mean of the
    series' MAE ratios counts each series once."""
    per_series = {
        "big": {"model": {"mae": 9.0}, "naive": {"mae": 10.0}, "seasonal_naive": {"mae": 20.0}},
        "small": {"model": {"mae": 0.3}, "naive": {"mae": 0.2}, "seasonal_naive": {"mae": 0.4}},
    }
    overall = {m: {"mae": sum(v[m]["mae"] for v in per_series.values()) / 2}
               for m in ("model", "naive", "seasonal_naive")}
    metrics = {"overall": overall, "per_series": per_series}
    assert overall["model"]["mae"] < overall["naive"]["mae"]  # pooled MAE would promote
    assert relative_mae(per_series, "model", "naive") == pytest.approx((0.9 * 1.5) ** 0.5)
    d = decide("if_better", metrics, None, gates={"ingested": True, "model-inputs": True})
    assert not d.promoted and "MAE ratio vs naive 1.1619, vs seasonal naive 0.5809" in d.reason


def _forecast(actual, model, naive, snaive, scale, lower=None, upper=None, sid="s"):
    from lstmflow.fit.evaluate import SeriesForecast

    a = np.array(actual, dtype=float)
    n, h = a.shape
    return SeriesForecast(series_id=sid, origins=np.arange(n), times=np.arange(n * h).reshape(n, h),
                          actual=a, preds={"model": np.array(model, float),
                                           "naive": np.array(naive, float),
                                           "seasonal_naive": np.array(snaive, float)},
                          ok=np.isfinite(a), scale=scale,
                          lower=None if lower is None else np.array(lower, float),
                          upper=None if upper is None else np.array(upper, float))


def test_scores_overall_per_series_and_per_horizon_by_hand():
    from lstmflow.fit.evaluate import score

    # two origins, two steps; model errors 1, 3 (step 1) and 2, 2 (step 2)
    f = _forecast(actual=[[10, 20], [30, 40]], model=[[11, 22], [27, 42]],
                  naive=[[10, 10], [30, 30]], snaive=[[12, 18], [28, 44]], scale=2.0)
    m = score([f], horizon=2)
    o = m["overall"]["model"]
    assert o["mae"] == 2.0 and o["rmse"] == pytest.approx(np.sqrt((1 + 4 + 9 + 4) / 4))
    assert o["mase"] == 1.0 and o["points"] == 4  # MAE 2 over the in-sample scale 2
    smape = np.mean([200 * 1 / 21, 200 * 2 / 42, 200 * 3 / 57, 200 * 2 / 82])
    assert o["smape"] == pytest.approx(smape)
    steps = m["per_horizon"]["model"]
    assert [s["mae"] for s in steps] == [2.0, 2.0] and steps[0]["rmse"] == pytest.approx(np.sqrt(5))
    assert [s["mae"] for s in m["per_horizon"]["naive"]] == [0.0, 10.0]  # naive decays with h
    assert m["per_series"]["s"]["model"]["rel_mae"] == pytest.approx(2 / 5)
    assert "intervals" not in m


def test_every_method_is_scored_on_the_same_points():
    from lstmflow.fit.evaluate import score

    f = _forecast(actual=[[1, np.nan], [3, 4]], model=[[1, 1], [1, 1]], naive=[[2, 2], [2, 2]],
                  snaive=[[np.nan, 0], [0, 0]], scale=1.0)
    f.ok &= np.isfinite(f.preds["seasonal_naive"])
    m = score([f], horizon=2)
    assert {m["overall"][k]["points"] for k in ("model", "naive", "seasonal_naive")} == {2}
    assert m["per_horizon"]["model"][0]["points"] == 1


def test_interval_coverage_and_width_by_hand():
    from lstmflow.fit.evaluate import score

    f = _forecast(actual=[[10, 20], [30, 40]], model=[[10, 20], [30, 40]],
                  naive=[[9, 9], [29, 29]], snaive=[[9, 9], [29, 29]], scale=2.0,
                  lower=[[9, 21], [29, 38]], upper=[[11, 25], [31, 41]])
    iv = score([f], horizon=2, levels=[0.1, 0.5, 0.9])["intervals"]
    assert iv["nominal"] == pytest.approx(0.8) and iv["levels"] == [0.1, 0.9]
    assert iv["coverage"] == 0.75  # 20 is below its interval [21, 25]
    assert iv["width"] == pytest.approx((2 + 4 + 2 + 3) / 4)
    assert iv["width_scaled"] == pytest.approx(iv["width"] / 2)
    assert [s["coverage"] for s in iv["per_horizon"]] == [1.0, 0.5]
    assert iv["per_series"]["s"]["coverage"] == 0.75


def test_quantile_levels_are_cumulated_like_the_point_path():
    """Under a diff target each level's path is cumulated from the origin level, so a wider
    step interval gives a wider level interval at every later step."""
    from lstmflow.data.arrays import SeriesArrays
    from lstmflow.data.split import Bounds
    from lstmflow.fit.evaluate import series_forecast

    n = 30
    level = np.arange(n, dtype=float)
    a = SeriesArrays(series_id="s", timestamps=np.arange(n), x=np.zeros((n, 1), np.float32),
                     z=np.zeros(n, np.float32), level=level, actual=level, bounds=Bounds(20, 25, n))
    state = {"target_transform": "diff", "scalers": {"s": {"z": {"center": 1.0, "scale": 0.5}}}}
    qhat = np.stack([np.full((2, 3), -1.0), np.zeros((2, 3)), np.full((2, 3), 1.0)], axis=-1)
    f = series_forecast(a, np.array([20, 21]), qhat[..., 1], state, 3, 5, qhat)
    np.testing.assert_allclose(f.preds["model"][0], [21, 22, 23])  # centre 1 per step
    np.testing.assert_allclose(f.lower[0], [20.5, 21, 21.5])  # (-1 * 0.5 + 1) per step
    np.testing.assert_allclose(f.upper[0], [21.5, 23, 24.5])
