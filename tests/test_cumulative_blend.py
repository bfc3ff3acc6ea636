"""Cumulative (change-since-origin) targets and the validation-fitted blend toward baselines."""

from __future__ import annotations

import numpy as np
import torch

from lstmflow.fit.blend import apply_blend, fit_blend, simplex_grid
from lstmflow.fit.evaluate import SeriesForecast
from models.data import StackedSeries, WindowBatches, window_ends
from models.lstm import LSTMForecaster
from tests.test_data import make_series


def test_cumulative_targets_sum_the_increments_after_the_origin_only():
    a = make_series(300, seed=5)
    stack = StackedSeries([a], horizon=4)
    ends = window_ends(stack, [a], "train", window=16, stride=3)
    pos = torch.arange(len(ends))
    _, y, ok = WindowBatches(stack, ends, 16, "train", burn_in=2)[pos]
    _, yc, okc = WindowBatches(stack, ends, 16, "train", burn_in=2, cumulative=True)[pos]
    assert torch.equal(ok, okc)  # same targets kept: no new rows enter the loss
    assert torch.allclose(yc[okc], y.cumsum(-1)[okc], atol=1e-5)
    last = int(ends[-1])
    assert np.allclose(yc[-1, -1].numpy(), np.cumsum(a.z[last + 1 : last + 5]), atol=1e-5)


def test_a_missing_increment_masks_every_later_cumulative_step():
    a = make_series(200, seed=6)
    a.z[120] = np.nan  # the target only (inputs stay finite)
    stack = StackedSeries([a], horizon=5)
    ends = np.array([117])
    _, y, ok = WindowBatches(stack, ends, 16, "val", cumulative=True)[torch.arange(1)]
    assert ok[0, -1].tolist() == [True, True, False, False, False]  # rows 118, 119 then 120..


def test_cumulative_head_predicts_increments_that_recumulate_exactly():
    torch.manual_seed(0)
    m = LSTMForecaster(3, horizon=4, hidden_size=8, num_layers=1, cumulative=True)
    m.eval()
    x = torch.randn(5, 10, 3)  # [B, L, F]
    raw = m(x)[:, -1, :, 0]  # [B, H]: changes since the origin
    inc = m.predict_last(x)  # [B, H]: per-step increments
    assert torch.allclose(inc.cumsum(-1), raw, atol=1e-6)
    plain = LSTMForecaster(3, horizon=4, hidden_size=8, num_layers=1)
    plain.load_state_dict(m.state_dict())
    assert torch.allclose(plain.predict_last(x), raw)  # old checkpoints: unchanged meaning


def _forecast(actual, model, naive, snaive):
    return SeriesForecast("s", np.arange(len(actual)), np.zeros(actual.shape), actual,
                          {"model": model, "naive": naive, "seasonal_naive": snaive},
                          np.isfinite(actual), 1.0)


def test_blend_falls_back_to_naive_on_a_random_walk_and_keeps_a_good_model():
    rng = np.random.default_rng(0)
    n, h = 2000, 3
    level = np.cumsum(rng.normal(size=n + h))
    actual = np.stack([level[1 + k : n + 1 + k] for k in range(h)], 1)  # [N, H]
    naive = np.repeat(level[:n, None], h, 1)
    noisy = naive + rng.normal(scale=2.0, size=naive.shape)  # worse than the random walk
    snaive = naive + rng.normal(scale=3.0, size=naive.shape)
    b = fit_blend([_forecast(actual, noisy, naive, snaive)], h, season=2)
    assert all(w[1] >= 0.8 for w in b["weights"]) and all(g > 0 for g in b["val_mae_gain"])
    good = fit_blend([_forecast(actual, actual + 1e-3, naive, snaive)], h, season=2)
    assert good["weights"] == [[1.0, 0.0, 0.0]] * h and good["val_mae_gain"] == [0.0] * h
    blended = apply_blend({"model": noisy, "naive": naive, "seasonal_naive": snaive}, b)
    assert np.abs(blended - actual).mean() < np.abs(noisy - actual).mean()
    assert apply_blend({"model": noisy}, None) is noisy


def _walk(n: int, h: int, seed: int):
    rng = np.random.default_rng(seed)
    level = np.cumsum(rng.normal(size=n + h))
    actual = np.stack([level[1 + k : n + 1 + k] for k in range(h)], 1)  # [N, H]
    naive = np.repeat(level[:n, None], h, 1)  # [N, H]
    snaive = np.stack([level[k % 2 - 1 : n + k % 2 - 1] if k % 2 else level[:n] for k in
                       range(h)], 1)  # season 2: the value one season back
    return rng, actual, naive, snaive


def test_the_blend_keeps_the_random_walk_when_the_models_gain_is_noise():
    """A model that is the random walk plus small noise beats it on some validation steps by
    chance: the lowest-MAE weights (tolerance 0) take that gain, the one-SE rule does not."""
    chance = 0
    for seed in range(6):
        rng, actual, naive, snaive = _walk(1500, 4, seed)
        model = naive + rng.normal(scale=0.05, size=naive.shape)
        fcs = [_forecast(actual, model, naive, snaive)]
        greedy = fit_blend(fcs, 4, season=2, tolerance_se=0.0)
        chance += sum(w[0] > 0 for w in greedy["weights"])
        rule = fit_blend(fcs, 4, season=2)
        assert all(w[0] == 0 for w in rule["weights"]), rule  # the baselines alone
        assert rule["tolerance_se"] == 1.0
    assert chance > 0  # the greedy choice does take noise somewhere, so the rule mattered


def test_the_blend_takes_a_model_that_beats_the_baselines_beyond_noise():
    rng, actual, naive, snaive = _walk(1500, 4, 0)
    model = actual + rng.normal(scale=0.5, size=actual.shape)  # sees part of the next steps
    b = fit_blend([_forecast(actual, model, naive, snaive)], 4, season=2)
    assert all(w[0] >= 0.7 for w in b["weights"]) and all(g >= 0 for g in b["val_mae_gain"])


def test_block_standard_error_grows_with_correlated_errors():
    from lstmflow.fit.blend import block_se

    rng = np.random.default_rng(1)
    white = rng.normal(size=4000)
    runs = np.repeat(rng.normal(size=200), 20)  # the same error for 20 neighbouring origins
    assert block_se(runs, 20) > 3 * block_se(white, 20)
    assert block_se(np.ones(1), 5) == float("inf")


def test_simplex_grid_sums_to_one_and_starts_with_the_model_alone():
    g = simplex_grid(0.1)
    assert len(g) == 66 and np.allclose(g.sum(1), 1) and g[0].tolist() == [1.0, 0.0, 0.0]


def test_a_zero_weight_baseline_without_history_leaves_the_model():
    model, nan = np.ones((2, 2)), np.full((2, 2), np.nan)
    out = apply_blend({"model": model, "naive": model * 3, "seasonal_naive": nan},
                      {"parts": ["model", "naive", "seasonal_naive"], "season": 4,
                       "weights": [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]]})
    assert out.tolist() == [[2.0, 1.0], [2.0, 1.0]]


def test_the_blend_reads_validation_points_only():
    from lstmflow.core import Fitted, Forecaster
    from lstmflow.data.prepare import prepare
    from lstmflow.fit.model import build_model
    from tests.test_preprocess import bounds_of, make_frame, pipeline_cfg

    cfg = pipeline_cfg(features={"calendar": "none"})
    cfg = cfg.model_copy(update={"forecast": cfg.forecast.model_copy(
        update={"horizon": 3, "input_size": 8})})
    frame = make_frame(120)
    prepared = prepare(frame, bounds_of(frame), cfg)
    model = build_model(cfg, len(prepared.inputs))
    core = Forecaster(cfg)
    before = core.validation_blend(Fitted(cfg, model, prepared.state), prepared)
    test_rows = frame.groupby("series_id").cumcount() >= 120 - 15
    edited = frame.assign(target=frame["target"].where(~test_rows, frame["target"] * 3))
    again = prepare(edited, bounds_of(edited), cfg)
    after = core.validation_blend(Fitted(cfg, model, again.state), again)
    assert before is not None and before == after
    assert len(before["weights"]) == 3
