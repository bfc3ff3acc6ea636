"""One definition each: runs of rows (impute, features, the gate), the grid step (ingestion,
features) and rolling statistics shared by features of the same window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmflow.config import FeaturesConfig
from lstmflow.data import features
from lstmflow.data.schema import TARGET
from lstmflow.data.segments import gap_position, longest_run
from lstmflow.data.timestamps import business_daily, grid_step, infer_freq
from tests.test_features import fstate_of
from tests.test_preprocess import make_frame

series_flags = st.lists(st.lists(st.booleans(), min_size=1, max_size=12), min_size=1, max_size=5)


def _reference(parts: list[list[bool]]):
    """Loop version: position in each flagged run, and each series' longest run and its start."""
    pos, longest, start, row = [], [], [], 0
    for flags in parts:
        best, best_at, run = 0, -1, 0
        for i, f in enumerate(flags):
            run = run + 1 if f else 0
            pos.append(run - 1 if f else -1)
            if run > best:
                best, best_at = run, row + i - run + 1
        longest.append(best)
        start.append(best_at)
        row += len(flags)
    return pos, longest, start


@settings(max_examples=200, deadline=None)
@given(series_flags)
def test_runs_match_a_plain_loop(parts):
    flags = np.array([f for p in parts for f in p])
    codes = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    pos, longest, start = _reference(parts)
    np.testing.assert_array_equal(gap_position(flags, codes), pos)
    got_len, got_start = longest_run(flags, codes, len(parts))
    np.testing.assert_array_equal(got_len, longest)
    np.testing.assert_array_equal(got_start, start)


def test_grid_step_is_the_most_common_step_inside_series():
    t = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-06",  # series 0
                        "2019-01-01", "2019-01-08"]).to_numpy()  # series 1: 7 days, never across
    codes = np.array([0, 0, 0, 0, 1, 1])
    assert grid_step(t, codes) == pd.Timedelta(days=1)
    assert grid_step(t[:1], codes[:1]) is None
    assert business_daily(t[:4], pd.Timedelta(days=1))
    assert not business_daily(pd.date_range("2020-01-01", periods=7).to_numpy(), pd.Timedelta(days=1))


@pytest.mark.parametrize("freq", ["h", "D", "B", "W-SAT", "MS"])
def test_ingestion_and_features_read_the_same_step(freq):
    f = make_frame(50, series=("A", "B"), freq=freq)
    step = grid_step(f["timestamp"].to_numpy(), pd.factorize(f["series_id"])[0])
    assert pd.tseries.frequencies.to_offset(infer_freq(f)).freqstr == freq
    expected = features.calendar_parts(FeaturesConfig(), step)
    assert fstate_of(f, FeaturesConfig())["calendar"] == expected


def test_rolling_mean_is_computed_once_per_window(monkeypatch):
    """mean_gap, zscore and Bollinger of one window share one rolling mean (and z-score and
    Bollinger with different windows do not)."""
    f = make_frame(80, series=("A",))
    calls: list[tuple] = []
    rolling = features.Runs.rolling

    def counted(self, v, w, how, ddof=1):
        calls.append((w, how, ddof))
        return rolling(self, v, w, how, ddof)

    monkeypatch.setattr(features.Runs, "rolling", counted)
    cfg = FeaturesConfig(rolling_mean_windows=[10], zscore_windows=[10], bollinger_windows=[10, 20],
                         volatility_windows=[5])
    out = features.compute_features(f, TARGET, cfg, fstate_of(f, cfg))
    assert sorted(calls) == [(5, "std", 1), (10, "mean", 1), (10, "std", 0), (10, "std", 1),
                             (20, "mean", 1), (20, "std", 0)]
    assert {"mean_gap_10", "zscore_10", "bb_pctb_10", "bb_pctb_20"} <= set(out)
