"""Imputation, scaling, target transforms and the JSON state (plain functions, no Prefect)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from lstmflow.config import PipelineConfig, PreprocessConfig, build_config
from lstmflow.data.impute import impute
from lstmflow.data.prepare import prepare
from lstmflow.data.scale import choose_scaler, fit_scalers, inverse_target, transform_target
from lstmflow.data.schema import LEVEL, SERIES, TARGET, TIME, DataError
from lstmflow.data.split import split_bounds

SMALL_FEATURES = {
    "return_periods": [2, 4], "rolling_mean_windows": [3, 7], "volatility_windows": [5],
    "zscore_windows": [6], "ema_spans": [4], "rsi_windows": [5], "macd_spans": [3, 6, 3],
    "bollinger_windows": [6], "calendar": "auto",
}


def make_frame(n: int = 80, series: tuple[str, ...] = ("A", "B"), seed: int = 0, covariates: int = 0,
               freq: str = "D") -> pd.DataFrame:
    """Canonical frame of positive random walks, optional covariates that track the level."""
    rng = np.random.default_rng(seed)
    parts = []
    for s in series:
        level = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        df = pd.DataFrame({SERIES: s, TIME: pd.date_range("2021-01-04", periods=n, freq=freq),
                           TARGET: level})
        for j in range(covariates):
            df[f"c{j}"] = level * (1 + 0.5 * j) + rng.normal(0, 0.5, n)
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def pipeline_cfg(covariates: int = 0, features: dict | None = None, **preprocess) -> PipelineConfig:
    """A pipeline config for prepare() with small feature windows."""
    return build_config({
        "data": {"path": "unused.csv", "timestamp_column": "t",
                 "covariates": [f"c{j}" for j in range(covariates)]},
        "preprocess": preprocess,
        "features": SMALL_FEATURES if features is None else features,
    })


def bounds_of(frame: pd.DataFrame, val: int = 15, test: int = 15):
    return split_bounds(frame, val, test)


# ---------------------------------------------------------------- imputation


def test_ffill_fills_first_max_gap_steps_and_reports_per_series():
    f = make_frame(40)
    a = f.index[f[SERIES] == "A"]
    f.loc[a[5:7], TARGET] = np.nan  # gap of 2
    f.loc[a[10:18], TARGET] = np.nan  # gap of 8 > max_gap 3
    f.loc[a[0], TARGET] = np.nan  # leading: nothing to carry
    out, rep, _ = impute(f, bounds_of(f), PreprocessConfig(impute="ffill", max_gap=3), [TARGET])
    lv = out.loc[a, LEVEL].to_numpy()
    assert np.isnan(lv[0])
    assert lv[5] == lv[6] == lv[4]
    assert (lv[10:13] == lv[9]).all() and np.isnan(lv[13:18]).all()  # rest of the long gap stays
    assert rep["filled"] == {"A": {TARGET: 5}, "B": {TARGET: 0}}
    assert rep["still_missing"]["A"][TARGET] == 6


def test_linear_interpolates_in_time_only_short_gaps_inside_one_split_part():
    f = make_frame(60, series=("A",))
    f.loc[[10, 11, 12], TARGET] = np.nan  # short gap: interpolated
    f.loc[20:27, TARGET] = np.nan  # 8 > max_gap: not invented at all
    f.loc[[29, 30], TARGET] = np.nan  # crosses train_end = 30: not interpolated
    b = bounds_of(f)
    assert b["A"].train_end == 30
    out, rep, _ = impute(f, b, PreprocessConfig(impute="linear", max_gap=4), [TARGET])
    lv = out[LEVEL].to_numpy()
    y9, y13 = f.loc[9, TARGET], f.loc[13, TARGET]
    np.testing.assert_allclose(lv[10:13], y9 + (y13 - y9) * np.array([1, 2, 3]) / 4, rtol=1e-12)
    assert np.isnan(lv[20:28]).all() and np.isnan(lv[29:31]).all()
    assert rep["filled"]["A"][TARGET] == 3


def test_knn_fills_from_training_neighbours_on_covariates():
    n = 60
    f = pd.DataFrame({SERIES: "A", TIME: pd.date_range("2021-01-01", periods=n, freq="D")})
    regime = np.tile([0.0, 10.0], n // 2)  # two regimes, told apart by the covariate
    f["c0"] = regime + np.arange(n) * 1e-2  # unique distances: no ties among neighbours
    f[TARGET] = np.where(regime == 0, 1.0, 5.0) + np.arange(n) * 1e-3
    f.loc[51, TARGET] = np.nan  # a test row in regime "10"
    f.loc[7, TARGET] = np.nan  # a training row in regime "10"
    b = split_bounds(f, 10, 10)  # train rows 0..39
    out, rep, st_ = impute(f, b, PreprocessConfig(impute="knn", max_gap=2, knn_neighbors=2), [TARGET, "c0"])
    lv = out[LEVEL].to_numpy()
    # Row 51's nearest training rows on c0 are 39 and 37 (same regime), never val/test rows.
    assert lv[51] == pytest.approx(f.loc[[39, 37], TARGET].mean(), rel=1e-12)
    assert lv[7] == pytest.approx(f.loc[[5, 9], TARGET].mean(), rel=1e-12)
    assert rep["filled"]["A"][TARGET] == 2
    assert len(st_["series"]["A"]["donors"]) == 40  # training rows only


def test_knn_needs_covariates():
    f = make_frame(40, series=("A",))
    f.loc[5, TARGET] = np.nan
    with pytest.raises(DataError, match="covariates"):
        impute(f, bounds_of(f), PreprocessConfig(impute="knn"), [TARGET])


def test_missing_indicators_are_unscaled_zero_one_inputs():
    f = make_frame(60, series=("A",), covariates=1)
    f.loc[[5, 40], TARGET] = np.nan
    f.loc[8, "c0"] = np.nan
    p = prepare(f, bounds_of(f), pipeline_cfg(covariates=1, missing_indicators=True))
    assert p.inputs[:4] == ["z", "c0", "missing_target", "missing_c0"]
    x = p.arrays[0].x
    assert set(np.unique(x[:, 2])) == {0.0, 1.0} and x[5, 2] == 1 and x[40, 2] == 1
    assert x[8, 3] == 1 and x[:, 3].sum() == 1
    assert p.state["scalers"]["A"]["missing_target"]["kind"] == "none"


def test_gaps_longer_than_max_gap_block_every_window_that_crosses_them():
    from models.data import StackedSeries, window_ends

    f = make_frame(200, series=("A", "B"))
    a = f.index[f[SERIES] == "A"]
    f.loc[a[60:70], TARGET] = np.nan  # train: 10 > max_gap
    f.loc[a[180:186], TARGET] = np.nan  # test
    cfg = pipeline_cfg(impute="linear", max_gap=3)
    p = prepare(f, bounds_of(f, 30, 30), cfg)
    stack = StackedSeries(p.arrays, horizon=3)
    window = 12
    for split in ("train", "val", "test"):
        ends = window_ends(stack, p.arrays, split, window)
        assert len(ends)
        for e in ends:
            rows = np.arange(e - window + 1, e + 1) - stack.offsets[0]
            assert not np.isin(rows, np.r_[60:70, 180:186]).any() or e >= stack.offsets[1]


# ---------------------------------------------------------------- scaling


def test_auto_picks_robust_for_heavy_tails_and_says_why():
    rng = np.random.default_rng(1)
    cfg = PreprocessConfig(scaler="auto")
    kind, why = choose_scaler(rng.standard_t(2, 2000), cfg)
    assert kind == "robust" and "kurtosis" in why
    spikes = rng.normal(0, 1, 2000)
    spikes[::50] = 40.0  # 2% spikes
    assert choose_scaler(spikes, PreprocessConfig(scaler="auto", auto_kurtosis=1e3))[0] == "robust"
    kind, why = choose_scaler(rng.normal(0, 1, 2000), cfg)
    assert kind == "standard" and "light tails" in why


def test_heavy_tailed_series_gets_robust_scaling_in_prepare():
    f = make_frame(300, series=("calm", "wild"), seed=3)
    rng = np.random.default_rng(4)
    w = f.index[f[SERIES] == "wild"]
    f.loc[w, TARGET] = 100 + np.cumsum(rng.standard_t(1.5, len(w)))
    p = prepare(f, bounds_of(f, 30, 30), pipeline_cfg(features={"calendar": "none"},
                                                      target_transform="diff"))
    assert p.state["scalers"]["wild"]["z"]["kind"] == "robust"
    assert p.state["scalers"]["calm"]["z"]["kind"] == "standard"
    assert "kurtosis" in p.report["scaling"]["robust_because"]["wild"]["z"]


def test_constant_series_passes_through_without_division_by_zero():
    f = make_frame(60, series=("A",))
    f[TARGET] = 7.0
    for kind in ("auto", "robust", "standard", "minmax"):
        for tt in ("level", "diff", "log_return"):
            p = prepare(f, bounds_of(f), pipeline_cfg(scaler=kind, target_transform=tt))
            x = p.arrays[0].x
            assert np.isfinite(x[10:]).all(), (kind, tt)
            assert (x[10:, 0] == 0).all()  # the (transformed) target, centred, scale 1
            assert p.state["scalers"]["A"]["z"]["scale"] == 1.0


@pytest.mark.parametrize("kind,cls", [("robust", RobustScaler), ("standard", StandardScaler),
                                      ("minmax", MinMaxScaler)])
def test_numpy_apply_from_json_equals_sklearn_transform(kind, cls):
    f = make_frame(120, covariates=1, seed=5)
    b = bounds_of(f, 20, 20)
    cfg = pipeline_cfg(covariates=1, scaler=kind)
    p = prepare(f, b, cfg)
    loaded = json.loads(json.dumps(p.state, allow_nan=False))
    again = prepare(f, b, cfg, state=loaded)
    for a1, a2 in zip(p.arrays, again.arrays, strict=True):
        assert np.array_equal(a1.x, a2.x, equal_nan=True) and np.array_equal(a1.z, a2.z, equal_nan=True)
    # The same numbers scikit-learn's own transform gives, column by column.
    for a in p.arrays:
        sid, n = a.series_id, a.bounds.train_end
        raw = f[f[SERIES] == sid]["c0"].to_numpy().reshape(-1, 1)
        sk = cls().fit(raw[:n])
        np.testing.assert_allclose(a.x[:, 1], sk.transform(raw)[:, 0], rtol=1e-5, atol=1e-6)


def test_fit_scalers_uses_training_rows_only():
    f = make_frame(50, series=("A",))
    b = bounds_of(f)
    params, _ = fit_scalers(f, b, [TARGET], PreprocessConfig(scaler="standard"))
    train = f[TARGET].to_numpy()[: b["A"].train_end]
    assert params["A"][TARGET]["center"] == pytest.approx(train.mean(), rel=1e-12)
    assert params["A"][TARGET]["scale"] == pytest.approx(train.std(), rel=1e-12)


def test_state_is_strict_json_with_knn_and_rejects_another_layout():
    f = make_frame(60, covariates=2)
    f.loc[[3, 50], TARGET] = np.nan
    p = prepare(f, bounds_of(f), pipeline_cfg(covariates=2, impute="knn"))
    text = json.dumps(p.state, allow_nan=False)  # no NaN/inf anywhere
    assert json.loads(text)["imputer"]["knn"]["k"] == 5
    again = prepare(f, bounds_of(f), pipeline_cfg(covariates=2, impute="knn"), state=json.loads(text))
    for a1, a2 in zip(p.arrays, again.arrays, strict=True):  # KNN rebuilt from JSON: same fills
        assert np.array_equal(a1.x, a2.x, equal_nan=True) and np.array_equal(a1.level, a2.level)
    assert np.isfinite(p.arrays[0].level[[3, 50]]).all()
    with pytest.raises(DataError, match="version"):
        prepare(f, bounds_of(f), pipeline_cfg(covariates=2, impute="knn"), state={"scalers": {}})


def test_log_return_on_non_positive_target_names_the_column():
    f = make_frame(40, series=("A",))
    f.loc[30, TARGET] = -1.0
    with pytest.raises(DataError, match=r"column 'target'.*log_return"):
        transform_target(f[TARGET], f[SERIES], "log_return")


# ---------------------------------------------------------------- exact inverses


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(1e-3, 1e6), min_size=4, max_size=30),
    st.sampled_from(["level", "diff", "log_return"]),
)
def test_target_inverse_round_trips(levels, kind):
    level = pd.Series(levels, dtype="float64")
    z = transform_target(level, pd.Series(["A"] * len(level)), kind).to_numpy()
    h = len(level) - 1
    back = inverse_target(kind, z[None, 1:], level.to_numpy()[:1])[0]  # [H] from the first level
    want = level.to_numpy()[1 : h + 1]
    if kind == "diff":  # differences are absolute: exact to 1e-9 of the series' magnitude
        assert np.all(np.abs(back - want) <= 1e-9 * np.abs(level).max())
    else:
        np.testing.assert_allclose(back, want, rtol=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=5, max_size=40), st.sampled_from(["robust", "standard",
                                                                                   "minmax", "auto"]))
def test_scaler_inverse_round_trips(values, kind):
    x = np.array(values)
    f = pd.DataFrame({SERIES: "A", TARGET: x})
    params, _ = fit_scalers(f, {"A": split_bounds(f, 1, 1)["A"]}, [TARGET], PreprocessConfig(scaler=kind))
    p = params["A"][TARGET]
    y = (x - p["center"]) / p["scale"]
    np.testing.assert_allclose(y * p["scale"] + p["center"], x, rtol=1e-9, atol=1e-9 * np.abs(x).max())
