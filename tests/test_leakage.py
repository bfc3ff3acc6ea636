"""Property tests: nothing at or before t depends on data after t; fitted state sees training rows only.

Each example draws a time t and a set of changes after t (new values or new gaps) and checks
exact equality (bitwise, NaN == NaN) of everything at or before t.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmflow.config import FeaturesConfig
from lstmflow.data.features import compute_features, fit_feature_state, warm_rows
from lstmflow.data.prepare import prepare
from lstmflow.data.schema import SERIES, TARGET
from lstmflow.data.split import split_bounds
from tests.test_preprocess import SMALL_FEATURES, make_frame, pipeline_cfg

N = 70
SETTINGS = settings(max_examples=30, deadline=None)
changes = st.lists(
    st.tuples(st.integers(0, 10**6), st.one_of(st.floats(1.0, 1e3), st.just(float("nan")))),
    min_size=1, max_size=6,
)
# rows missing before anything changes; often around the train|val boundary at row 40
holes = st.lists(st.one_of(st.integers(1, N - 1), st.integers(37, 42)), max_size=8)
methods = st.sampled_from(["ffill", "knn"])


def perturbed(frame: pd.DataFrame, sid: str, t: int, edits, column: str = TARGET) -> pd.DataFrame:
    """A copy with `edits` applied to rows after local row t of series sid."""
    out = frame.copy()
    rows = np.flatnonzero((out[SERIES] == sid).to_numpy())
    after = rows[t + 1 :]
    for k, value in edits:
        out.loc[after[k % len(after)], column] = value
    return out


def with_holes(frame: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """Missing target (and first covariate) values at the given local rows of series A."""
    out = frame.copy()
    idx = np.flatnonzero((out[SERIES] == "A").to_numpy())[rows]
    out.loc[idx, TARGET] = np.nan
    if "c0" in out:
        out.loc[idx[::2], "c0"] = np.nan
    return out


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a, b, equal_nan=True)


@SETTINGS
@given(t=st.integers(0, N - 2), edits=changes, seed=st.integers(0, 5), gaps=holes)
def test_features_at_or_before_t_ignore_everything_after_t(t, edits, seed, gaps):
    cfg = FeaturesConfig(**SMALL_FEATURES)
    f = with_holes(make_frame(N, seed=seed), gaps)
    fstate = fit_feature_state(f, TARGET, {"A": 40, "B": 40}, cfg)
    base = compute_features(f, TARGET, cfg, fstate)
    g = perturbed(f, "A", t, edits)
    new = compute_features(g, TARGET, cfg, fstate)
    rows = np.flatnonzero((f[SERIES] == "A").to_numpy())[: t + 1]
    other = (f[SERIES] == "B").to_numpy()
    base["_warm"], new["_warm"] = warm_rows(f, TARGET, cfg), warm_rows(g, TARGET, cfg)
    for name in base:
        assert same(base[name][rows], new[name][rows]), name
        assert same(base[name][other], new[name][other]), name  # other series untouched


@SETTINGS
@given(t=st.integers(0, N - 2), edits=changes, seed=st.integers(0, 5), gaps=holes, method=methods,
       column=st.sampled_from([TARGET, "c0"]))
def test_scaled_inputs_at_or_before_t_ignore_everything_after_t(t, edits, seed, gaps, method, column):
    """With fitted state fixed (as in prediction), for every t; ffill and knn are causal."""
    cfg = pipeline_cfg(covariates=2, impute=method, max_gap=3, missing_indicators=True)
    f = with_holes(make_frame(N, seed=seed, covariates=2), gaps)
    b = _bounds(f)
    fitted = prepare(f, b, cfg)
    again = prepare(perturbed(f, "A", t, edits, column), b, cfg, state=fitted.state)
    a0, a1 = fitted.arrays[0], again.arrays[0]
    assert same(a0.x[: t + 1], a1.x[: t + 1]) and same(a0.z[: t + 1], a1.z[: t + 1])
    assert same(a0.level[: t + 1], a1.level[: t + 1])
    assert same(fitted.arrays[1].x, again.arrays[1].x)


@SETTINGS
@given(t=st.integers(40, N - 2), edits=changes, seed=st.integers(0, 5), gaps=holes,
       method=st.sampled_from(["ffill", "knn", "linear"]), scaler=st.sampled_from(["auto", "minmax"]),
       column=st.sampled_from([TARGET, "c0"]))
def test_validation_and_test_values_change_no_fitted_parameter(t, edits, seed, gaps, method, scaler,
                                                               column):
    """Refit after changing rows from t >= train_end on: identical state, identical rows <= t."""
    cfg = pipeline_cfg(covariates=2, impute=method, max_gap=3, scaler=scaler)
    f = with_holes(make_frame(N, seed=seed, covariates=2), gaps)
    b = _bounds(f)
    assert b["A"].train_end == 40
    fitted = prepare(f, b, cfg)
    refit = prepare(perturbed(f, "A", t, edits, column), b, cfg)
    assert json.dumps(fitted.state, sort_keys=True) == json.dumps(refit.state, sort_keys=True)
    if method != "linear":
        assert same(fitted.arrays[0].x[: t + 1], refit.arrays[0].x[: t + 1])
    assert same(fitted.arrays[0].x[:40], refit.arrays[0].x[:40])  # training rows, any method


@SETTINGS
@given(t=st.integers(1, N - 2), edits=changes, seed=st.integers(0, 5), gaps=holes)
def test_linear_interpolation_reaches_back_only_into_the_gap_that_ends_at_t(t, edits, seed, gaps):
    """Linear fills a gap from the value after it. Changing rows >= t may change only the rows
    from the start of the missing run that ends at t-1 (if that run is short enough to be
    interpolated); every row before it is identical."""
    max_gap = 3
    cfg = pipeline_cfg(impute="linear", max_gap=max_gap)
    f = with_holes(make_frame(N, seed=seed), gaps)
    b = _bounds(f)
    fitted = prepare(f, b, cfg)
    edited = perturbed(f, "A", t - 1, edits)  # rows t, t+1, ... change
    again = prepare(edited, b, cfg, state=fitted.state)
    missing = f.loc[f[SERIES] == "A", TARGET].isna().to_numpy()
    run = 0
    while run < t and missing[t - 1 - run]:
        run += 1
    first = t - run if run <= max_gap else t  # first row that may change
    a0, a1 = fitted.arrays[0], again.arrays[0]
    assert same(a0.x[:first], a1.x[:first]) and same(a0.level[:first], a1.level[:first])
    # inside the reach, only imputed levels may differ
    changed = ~np.isclose(a0.level[first:t], a1.level[first:t], equal_nan=True)
    assert missing[first:t][changed].all()


def _bounds(frame: pd.DataFrame):
    return split_bounds(frame, 15, 15)


def test_a_gap_across_train_end_is_not_interpolated_from_validation_values():
    """The deterministic case of the property above: a short gap straddling train_end."""
    cfg = pipeline_cfg(impute="linear", max_gap=5)
    f = with_holes(make_frame(N, seed=1), [38, 39, 40, 41])
    b = _bounds(f)
    fitted = prepare(f, b, cfg)
    refit = prepare(perturbed(f, "A", 41, [(0, 500.0)]), b, cfg)  # row 42 closes the gap
    assert json.dumps(fitted.state, sort_keys=True) == json.dumps(refit.state, sort_keys=True)
    assert same(fitted.arrays[0].x[:40], refit.arrays[0].x[:40])
    assert np.isnan(fitted.arrays[0].level[38:42]).all()  # not invented across the boundary


@SETTINGS
@given(t=st.integers(1, N - 2), edits=changes, seed=st.integers(0, 5), gaps=holes)
def test_linear_windows_ending_at_or_before_t_ignore_everything_after_t(t, edits, seed, gaps):
    """What the model sees, for linear imputation: every window (train, val, test) whose origin
    is at or before t has identical inputs and loss mask when rows after t change, because no
    window ends inside an interpolated gap (its values come from the row after the gap)."""
    from models.data import StackedSeries, WindowBatches, window_ends

    window, horizon = 5, 2
    cfg = pipeline_cfg(impute="linear", max_gap=3)
    f = with_holes(make_frame(N, seed=seed), [*gaps, t])  # t itself missing: inside a gap
    b = _bounds(f)
    fitted = prepare(f, b, cfg)
    edits = [(0, 777.0), *edits]  # always change row t + 1, which may close that gap
    again = prepare(perturbed(f, "A", t, edits), b, cfg, state=fitted.state)
    for split in ("train", "val", "test"):
        seen = []
        for p in (fitted, again):
            stack = StackedSeries(p.arrays, horizon)
            ends = window_ends(stack, p.arrays, split, window)
            ends = ends[ends <= t]  # series A comes first: its origins are its own rows
            x, _, ok = WindowBatches(stack, ends, window, split, burn_in=1)[list(range(len(ends)))]
            seen.append((ends, x, ok[:, :, 0]))
        (e0, x0, m0), (e1, x1, m1) = seen
        assert np.array_equal(e0, e1), split
        assert same(x0.numpy(), x1.numpy()), split
        # the loss may only look at steps whose targets end by t; those masks must agree too
        assert np.array_equal(m0.numpy(), m1.numpy()) or split != "train"


def test_no_window_ends_inside_an_interpolated_gap():
    from models.data import StackedSeries, window_ends

    cfg = pipeline_cfg(impute="linear", max_gap=3)
    f = with_holes(make_frame(N, seed=0), [50, 51, 60])  # validation-part gaps, filled
    prepared = prepare(f, _bounds(f), cfg)
    a = prepared.arrays[0]
    assert np.isfinite(a.x[[50, 51, 60]]).all()  # interpolated, not left missing
    assert not a.origin_ok[[50, 51, 60]].any() and a.origin_ok[[49, 52, 59, 61]].all()
    stack = StackedSeries(prepared.arrays, 2)
    ends = window_ends(stack, prepared.arrays, "val", 5)
    assert not set(ends.tolist()) & {50, 51, 60}
    assert {49, 52} <= set(ends.tolist())
