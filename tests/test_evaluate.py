"""Evaluation: baselines by hand, same points for every method, promotion decisions."""

from __future__ import annotations

import numpy as np
import pytest

from lstmflow.data.scale import inverse_target
from lstmflow.fit.evaluate import baseline_forecasts, beats_baselines, relative_mae
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


def _metrics(model, naive, snaive):
    """One series whose MAEs are given; overall equal to it."""
    one = {"model": {"mae": model}, "naive": {"mae": naive}, "seasonal_naive": {"mae": snaive}}
    return {"overall": one, "per_series": {"a": one}}


def test_promotion_needs_both_baselines_beaten():
    ok, why = decide("if_better", _metrics(1.0, 0.9, 2.0), None)
    assert not ok and "does not beat the baselines: MAE ratio vs naive 1.111" in why
    ok, why = decide("if_better", _metrics(1.0, 2.0, 3.0), None)
    assert ok and "no champion yet" in why
    assert beats_baselines(_metrics(1.0, 2.0, 3.0))
    assert not beats_baselines({"overall": {}})


def test_promotion_against_the_champion_on_common_series():
    champ = {"version": "v1", "metrics": {"per_series": {"a": {"model": {"mae": 0.5}}}}}
    ok, why = decide("if_better", _metrics(1.0, 2.0, 3.0), champ)
    assert not ok and "does not beat champion v1 (MAE ratio new/champion 2.0000 >= 1)" in why
    champ["metrics"]["per_series"]["a"]["model"]["mae"] = 1.5
    ok, why = decide("if_better", _metrics(1.0, 2.0, 3.0), champ)
    assert ok and "champion v1 (MAE ratio 0.6667)" in why


def test_promotion_policies():
    assert decide("never", _metrics(0.1, 2, 3), None)[0] is False
    assert decide("always", _metrics(9, 2, 3), None)[0] is True


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
    ok, why = decide("if_better", metrics, None)
    assert not ok and "MAE ratio vs naive 1.1619, vs seasonal naive 0.5809" in why
