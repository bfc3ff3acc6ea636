"""Engineered features: values against plain pandas references, warm-up, gaps, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmflow.config import ConfigError, FeaturesConfig, build_config
from lstmflow.data.features import (
    add_features,
    calendar_parts,
    compute_features,
    feature_names,
    fit_feature_state,
    warm_rows,
    warmup_steps,
)
from lstmflow.data.schema import SERIES, TARGET, TIME, DataError
from tests.test_preprocess import SMALL_FEATURES, make_frame

FULL = FeaturesConfig(**SMALL_FEATURES)


def fstate_of(frame: pd.DataFrame, cfg: FeaturesConfig = FULL, train_end: int = 10**9) -> dict:
    return fit_feature_state(frame, TARGET, dict.fromkeys(frame[SERIES].unique(), train_end), cfg)


def reference(level: pd.Series) -> dict[str, pd.Series]:
    """The same features for one gap-free series, written the obvious pandas way."""
    r1 = np.log(level).diff()
    out = {"ret_2": np.log(level / level.shift(2)), "ret_4": np.log(level / level.shift(4))}
    for w in (3, 7):
        out[f"mean_gap_{w}"] = level / level.rolling(w).mean() - 1
    out["vol_5"] = r1.rolling(5).std()
    out["zscore_6"] = (level - level.rolling(6).mean()) / level.rolling(6).std()
    out["ema_gap_4"] = level / level.ewm(span=4, adjust=False, min_periods=4).mean() - 1
    d = level.diff()
    up = d.clip(lower=0).ewm(alpha=1 / 5, adjust=False, min_periods=5).mean()
    dn = (-d).clip(lower=0).ewm(alpha=1 / 5, adjust=False, min_periods=5).mean()
    out["rsi_5"] = 100 * up / (up + dn)
    fast = level.ewm(span=3, adjust=False, min_periods=6).mean()
    slow = level.ewm(span=6, adjust=False, min_periods=6).mean()
    out["macd"] = fast / slow - 1
    out["macd_signal"] = out["macd"].ewm(span=3, adjust=False, min_periods=3).mean()
    m, sd = level.rolling(6).mean(), level.rolling(6).std(ddof=0)
    out["bb_pctb_6"] = (level - (m - 2 * sd)) / (4 * sd)
    return out


def test_features_match_pandas_reference_per_series():
    f = make_frame(90, series=("A", "B", "C"), seed=7)
    feats = compute_features(f, TARGET, FULL, fstate_of(f))
    for sid in ("A", "B", "C"):
        rows = (f[SERIES] == sid).to_numpy()
        ref = reference(f.loc[rows, TARGET].reset_index(drop=True))
        for name, want in ref.items():
            np.testing.assert_allclose(feats[name][rows], want.to_numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=name)


def test_one_series_never_touches_another_bitwise():
    f = make_frame(70, series=("A", "B"), seed=2)
    both = compute_features(f, TARGET, FULL, fstate_of(f))
    b_only = f[f[SERIES] == "B"].reset_index(drop=True)
    alone = compute_features(b_only, TARGET, FULL, fstate_of(b_only))
    rows = (f[SERIES] == "B").to_numpy()
    for name in alone:
        assert np.array_equal(both[name][rows], alone[name], equal_nan=True), name


def test_features_restart_after_a_gap_left_open():
    f = make_frame(120, series=("A",), seed=4)
    f.loc[40:49, TARGET] = np.nan  # imputation left this gap open (longer than max_gap)
    feats = compute_features(f, TARGET, FULL, fstate_of(f))
    after = f.iloc[50:].reset_index(drop=True)
    fresh = compute_features(after, TARGET, FULL, fstate_of(after))
    warm = warmup_steps(FULL)
    for name in feature_names(FULL, []):
        assert np.isnan(feats[name][40:50]).all(), name
        assert np.array_equal(feats[name][50:], fresh[name], equal_nan=True), name
        assert np.isfinite(feats[name][50 + warm :]).all(), name


def test_warm_rows_are_the_rows_with_every_feature_defined_after_each_gap_left_open():
    """The model-input gate checks these rows: the warm-up restarts after a gap, as at the start."""
    f = make_frame(120, series=("A", "B"), seed=4)
    a = np.flatnonzero((f[SERIES] == "A").to_numpy())
    f.loc[a[40:50], TARGET] = np.nan  # gaps imputation left open
    f.loc[a[[80, 81]], TARGET] = np.nan
    feats = compute_features(f, TARGET, FULL, fstate_of(f))
    warm = warm_rows(f, TARGET, FULL)
    assert np.array_equal(warm, np.isfinite(np.column_stack(list(feats.values()))).all(axis=1))
    w = warmup_steps(FULL)
    assert not warm[a[:w]].any() and not warm[a[40 : 50 + w]].any() and warm[a[50 + w : 80]].all()
    assert not warm[a[80 : 82 + w]].any() and warm[a[82 + w :]].all()


def test_warmup_steps_is_the_first_row_where_every_input_is_defined():
    f = make_frame(80, series=("A",), seed=1)
    warm = warmup_steps(FULL)
    assert warm == 6 - 1 + 3 - 1  # MACD: slow EMA, then the signal EMA
    feats = compute_features(f, TARGET, FULL, fstate_of(f))
    block = np.column_stack(list(feats.values()))  # [T, F]
    assert np.isfinite(block[warm:]).all()
    assert not np.isfinite(block[warm - 1]).all()
    assert warmup_steps(FeaturesConfig(return_periods=[], rolling_mean_windows=[], volatility_windows=[],
                                       zscore_windows=[], calendar="none")) == 1


def test_constant_series_gives_finite_neutral_features():
    f = make_frame(60, series=("A",))
    f[TARGET] = 3.0
    feats = compute_features(f, TARGET, FULL, fstate_of(f))
    warm = warmup_steps(FULL)
    for name, v in feats.items():
        assert np.isfinite(v[warm:]).all(), name
    assert (feats["zscore_6"][warm:] == 0).all() and (feats["bb_pctb_6"][warm:] == 0.5).all()
    assert (feats["rsi_5"][warm:] == 50).all() and (feats["vol_5"][warm:] == 0).all()
    assert (feats["mean_gap_7"][warm:] == 0).all()


def test_non_positive_series_falls_back_to_differences_with_a_report_line():
    f = make_frame(60, series=("pos", "neg"), seed=3)
    neg = (f[SERIES] == "neg").to_numpy()
    f.loc[neg, TARGET] = f.loc[neg, TARGET] - 100.0  # crosses zero
    st = fstate_of(f)
    assert st["positive"] == {"pos": True, "neg": False}
    out, names, report = add_features(f, TARGET, FULL, st)
    warm = warmup_steps(FULL)
    level = f.loc[neg, TARGET].reset_index(drop=True)
    np.testing.assert_allclose(out.loc[neg, "ret_2"].to_numpy(), (level - level.shift(2)).to_numpy())
    assert np.isfinite(out.loc[neg, names].to_numpy()[warm:]).all()
    assert "['neg']" in report["log_fallback"] and "differences" in report["log_fallback"]


def test_non_positive_value_after_a_positive_training_part_is_refused_by_name():
    f = make_frame(60, series=("A",))
    st = fstate_of(f, train_end=40)
    f.loc[50, TARGET] = 0.0
    with pytest.raises(DataError, match=r"column 'target' of series 'A'.*<= 0"):
        compute_features(f, TARGET, FULL, st)


@pytest.mark.parametrize("freq,parts,ppy", [
    ("h", ["hour_of_day", "day_of_week"], 365.25 * 24),
    ("D", ["day_of_week", "month"], 365.25),
    ("B", ["day_of_week", "month"], 252.0),
    ("W-SAT", ["month"], 365.25 / 7),
    ("MS", ["month"], None),
])
def test_calendar_auto_follows_the_time_step(freq, parts, ppy):
    f = make_frame(50, series=("A",), freq=freq)
    st = fstate_of(f, FeaturesConfig())
    assert st["calendar"] == parts
    if ppy:
        assert st["periods_per_year"] == pytest.approx(ppy)
    feats = compute_features(f, TARGET, FeaturesConfig(), st)
    cal = [n for n in feats if n.endswith(("_sin", "_cos"))]
    assert len(cal) == 2 * len(parts)
    for n in cal:
        assert np.all(np.abs(feats[n]) <= 1.0)
    ts = f[TIME].dt
    expected = {"day_of_week": ("dow", ts.dayofweek, 7), "month": ("month", ts.month - 1, 12),
                "hour_of_day": ("hour", ts.hour, 24)}
    for part in parts:
        short, phase, period = expected[part]
        ang = 2 * np.pi * phase.to_numpy(dtype="float64") / period
        np.testing.assert_allclose(feats[f"{short}_sin"], np.sin(ang), atol=1e-12)
        np.testing.assert_allclose(feats[f"{short}_cos"], np.cos(ang), atol=1e-12)


def test_calendar_explicit_and_none():
    assert calendar_parts(FeaturesConfig(calendar="none"), pd.Timedelta(hours=1)) == []
    assert calendar_parts(FeaturesConfig(calendar=["month"]), pd.Timedelta(hours=1)) == ["month"]


def test_annualised_volatility_scales_by_sqrt_periods():
    f = make_frame(60, series=("A",), freq="B")
    cfg = FeaturesConfig(annualize_volatility=True)
    st = fstate_of(f, cfg)
    plain = compute_features(f, TARGET, FeaturesConfig(), st)["vol_20"]
    ann = compute_features(f, TARGET, cfg, st)["vol_20"]
    np.testing.assert_allclose(ann, plain * np.sqrt(252.0))


def test_feature_config_refuses_bad_values_by_name():
    base = {"data": {"path": "x.csv", "timestamp_column": "t"}}
    with pytest.raises(ConfigError, match=r"features\.macd_spans"):
        build_config({**base, "features": {"macd_spans": [26, 12, 9]}})
    with pytest.raises(ConfigError, match=r"features\.rolling_mean_windows repeats"):
        build_config({**base, "features": {"rolling_mean_windows": [5, 5]}})
    with pytest.raises(ConfigError, match=r"features\.volatility_windows"):
        build_config({**base, "features": {"volatility_windows": [1]}})
    with pytest.raises(ConfigError, match=r"preprocess\.impute"):
        build_config({**base, "preprocess": {"impute": "mean"}})
