"""`model.segment_len`: the LSTM reads p steps at once. Causal, aligned on the origin, trained on
the segment ends' targets, saved and loaded like any version, refused when longer than the window."""

from __future__ import annotations

import pytest
import torch

from lstmflow.config import ConfigError, build_config
from lstmflow.serve.registry import load_version, save_version
from models.lstm import LSTMForecaster
from models.net import segment_ends, segments
from tests.conftest import small_config_dict


def _batch(length: int = 10, f: int = 3, h: int = 2):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, length, f, generator=g)  # [B, L, F]
    y = torch.randn(4, length, h, generator=g)  # [B, L, H]
    return x, y, torch.ones(4, length, h, dtype=torch.bool)


@pytest.mark.parametrize(("length", "p", "ends"), [(10, 4, [5, 9]), (12, 4, [3, 7, 11]),
                                                   (5, 1, [0, 1, 2, 3, 4]), (7, 7, [6])])
def test_segments_end_on_the_forecast_origin(length, p, ends):
    assert segment_ends(length, p).tolist() == ends
    x = torch.arange(length, dtype=torch.float32).view(1, length, 1)
    seg = segments(x, p)  # [1, L // p, p]
    assert seg.shape == (1, length // p, p)
    assert seg[0, :, -1].tolist() == ends  # each segment's last value is its end step


def test_a_forecast_never_reads_a_step_after_its_segment_end():
    torch.manual_seed(0)
    m = LSTMForecaster(3, 2, hidden_size=8, num_layers=2, dropout=0.0, segment_len=4).eval()
    x, _, _ = _batch(length=12)
    base = m(x)  # [B, 3, H, 1]: forecasts from steps 3, 7, 11
    for step in range(12):
        moved = x.clone()
        moved[:, step] += 1.0
        changed = (m(moved) - base).abs().amax(dim=(0, 2, 3)) > 0  # [3]
        first = step // 4  # the segment holding `step`
        assert not changed[:first].any(), f"a forecast before step {step} read it"
        assert changed[first:].all()


def test_training_scores_the_targets_of_the_segment_ends_only():
    torch.manual_seed(0)
    m = LSTMForecaster(3, 2, hidden_size=8, dropout=0.0, loss="mse", segment_len=4)
    x, y, ok = _batch(length=10)
    at = [5, 9]
    pred = m(x)[..., 0]  # [B, 2, H]
    want = ((pred - y[:, at]) ** 2).mean()
    torch.testing.assert_close(m.masked_loss((x, y, ok)), want)
    y2 = y.clone()
    y2[:, [0, 1, 2, 3, 4, 6, 7, 8]] = 99.0  # targets of steps no forecast is made from
    torch.testing.assert_close(m.masked_loss((x, y2, ok)), want)
    ok2 = ok.clone()
    ok2[:, 9] = False  # the origin's targets masked: only step 5 counts
    torch.testing.assert_close(m.masked_loss((x, y, ok2)), ((pred[:, 0] - y[:, 5]) ** 2).mean())
    assert m.zero_loss((x, y, ok)).item() == pytest.approx((y[:, at] ** 2).mean().item(), rel=1e-6)


def test_a_segmented_version_loads_and_forecasts_the_same(tmp_path):
    torch.manual_seed(0)
    m = LSTMForecaster(n_inputs=3, horizon=2, hidden_size=4, num_layers=1, segment_len=3)
    assert m.lstm.input_size == 9  # three steps of three inputs per recurrent step
    record = {"config": {"name": "x"}, "metrics": {}, "data": {"fingerprint": "f" * 16},
              "effective_config_sha256": "0" * 64, "decision": {"status": "champion"}}
    version = load_version(save_version(tmp_path, "v1", m, {"scalers": {}}, record))
    x = torch.randn(2, 8, 3)
    assert version.model.segment_len == 3
    torch.testing.assert_close(version.model.predict_quantiles(x), m.predict_quantiles(x))


def test_a_segment_longer_than_the_window_is_refused(tmp_path):
    cfg = small_config_dict(tmp_path / "d.csv", tmp_path / "out")
    cfg["model"] = {"segment_len": cfg["forecast"]["input_size"] + 1}
    with pytest.raises(ConfigError, match=r"model.segment_len .* must not exceed "
                                          r"forecast.input_size"):
        build_config(cfg)
    cfg["model"] = {"segment_len": cfg["forecast"]["input_size"]}
    assert build_config(cfg).model.segment_len == cfg["forecast"]["input_size"]


def test_tuning_never_draws_a_window_shorter_than_an_explicit_segment(tmp_path):
    """The default input_size range (half to twice the window) starts at an explicit
    segment_len; an explicit range below it is refused naming both keys."""
    from lstmflow.tune.space import input_range

    cfg = small_config_dict(tmp_path / "d.csv", tmp_path / "out")
    size = cfg["forecast"]["input_size"]
    cfg["model"] = {"segment_len": size}
    assert input_range(build_config(cfg)) == (size, 2 * size)
    cfg["model"] = {"segment_len": 1}
    assert input_range(build_config(cfg)) == (max(2, size // 2), 2 * size)
    cfg["model"] = {"segment_len": size}
    cfg["tune"] = {"space": {"input_size": [size - 1, size]}}
    with pytest.raises(ConfigError, match=r"model.segment_len .* low end of "
                                          r"tune.space.input_size"):
        build_config(cfg)
    cfg["tune"] = {"space": {"input_size": [size, size + 4]}}
    assert build_config(cfg).tune.space.input_size == (size, size + 4)


@pytest.mark.parametrize(("input_size", "expected"), [(8, 1), (16, 1), (24, 2), (64, 4),
                                                      (96, 8), (192, 16), (512, 32),
                                                      (2048, 64)])
def test_the_default_segment_gives_about_twelve_recurrent_steps(tmp_path, input_size, expected):
    from lstmflow.fit.model import build_model, segment_len

    cfg = small_config_dict(tmp_path / "d.csv", tmp_path / "out")
    cfg["forecast"]["input_size"] = input_size
    built = build_config(cfg)
    assert built.model.segment_len is None and segment_len(built) == expected
    assert build_model(built, n_inputs=3).hparams.segment_len == expected  # saved with the weights
    cfg["model"] = {"segment_len": 1}
    assert segment_len(build_config(cfg)) == 1  # the step-by-step LSTM on request


@pytest.mark.parametrize(("stride", "p", "used"), [(8, 8, 9), (4, 2, 5), (16, 4, 17), (1, 8, 1),
                                                   (8, 1, 8), (9, 8, 9)])
def test_training_targets_cover_every_phase_of_the_segments(tmp_path, stride, p, used):
    """The loss sits on segment ends, which are a fixed distance from each window's end: a
    window stride with a factor in common with the segment length would train on the same
    rows mod p only, so the stride is raised to the next value without one."""
    from lstmflow.fit.model import build_datasets, window_stride
    from tests.test_budget import series

    raw = small_config_dict(tmp_path / "d.csv", tmp_path / "out")
    raw["forecast"] = {"horizon": 3, "input_size": 32}
    raw["model"] = {"segment_len": p}
    raw["training"].update(window_stride=stride)
    cfg = build_config(raw)
    arrays = [series(2_000)]
    assert window_stride(cfg, arrays) == used
    train, _ = build_datasets(arrays, cfg)
    ends = train.ends.numpy()  # [W] window ends (one series: padded rows = rows)
    back = 31 - segment_ends(32, p).numpy()  # [L'] steps from each window end to a segment end
    rows = (ends[:, None] - back[None, :]).ravel()
    assert len(set(rows % p)) == p  # every phase is trained on


@pytest.mark.parametrize(("p", "every_step"), [(8, True), (1, True), (4, False)])
def test_datasets_build_only_the_targets_the_loss_reads_and_the_losses_do_not_change(
        tmp_path, p, every_step):
    """Training builds targets at the segment ends, validation at the origin only ([B, L', H]
    and [B, 1, H] instead of [B, L, H]); every loss is what the full target block gives."""
    from lstmflow.fit.model import build_datasets, build_model
    from models.data import WindowBatches
    from tests.test_budget import series

    raw = small_config_dict(tmp_path / "d.csv", tmp_path / "out")
    raw["forecast"] = {"horizon": 3, "input_size": 32}
    raw["model"] = {"segment_len": p}
    raw["training"].update(burn_in=9, every_step=every_step)
    cfg = build_config(raw)
    arrays = [series(600)]
    train, val = build_datasets(arrays, cfg)
    model = build_model(cfg, n_inputs=arrays[0].x.shape[1]).eval()
    for ds, kind, width in ((train, "train", 32 // p if every_step else 1), (val, "val", 1)):
        pos = torch.arange(min(len(ds), 64))
        x, y, ok = ds[pos]
        assert y.shape == ok.shape == (len(pos), width, 3)
        full = WindowBatches(ds.stack, ds.ends.numpy(), 32, kind, ds.burn_in, ds.every_step)
        assert full[pos][1].shape[1] == 32
        torch.testing.assert_close(model.masked_loss((x, y, ok)), model.masked_loss(full[pos]))
        torch.testing.assert_close(model.zero_loss((x, y, ok)), model.zero_loss(full[pos]))
    with pytest.raises(ValueError, match="must end at the window's last step"):
        WindowBatches(train.stack, train.ends.numpy(), 32, "train", at=[0, 5])
