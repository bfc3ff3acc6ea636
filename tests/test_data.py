"""Windowed datasets: index arithmetic over one stacked tensor, gap skipping, caps and masks."""

from __future__ import annotations

import numpy as np
import torch

from lstmflow.data.arrays import SeriesArrays
from lstmflow.data.split import Bounds
from models.data import EpochBatches, StackedSeries, WindowBatches, loader, window_ends


def make_series(t: int, f: int = 3, gap: tuple[int, int] | None = None, seed: int = 0,
                sid: str = "s") -> SeriesArrays:
    """A synthetic prepared series with NaN inputs and targets inside `gap` [start, stop)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(t, f)).astype(np.float32)  # [T, F]
    z = x[:, 0].copy()  # [T]
    if gap:
        x[gap[0] : gap[1]] = np.nan
        z[gap[0] : gap[1]] = np.nan
    level = np.cumsum(np.nan_to_num(z)).astype(np.float64)
    return SeriesArrays(sid, np.arange(t).astype("datetime64[D]"), x, z, level, level.copy(),
                        Bounds(train_end=int(t * 0.6), val_end=int(t * 0.8), length=t))


def test_windows_crossing_an_unfilled_gap_are_skipped():
    a = make_series(300, gap=(100, 110))
    stack = StackedSeries([a], horizon=3)
    ends = window_ends(stack, [a], "train", window=20, stride=1)
    starts = ends - 19
    crosses = (starts < 110) & (ends >= 100)
    assert not crosses.any()
    # every window that does not touch the gap is kept
    expected = [e for e in range(19, a.bounds.train_end - 1) if not (e - 19 < 110 and e >= 100)]
    assert ends.tolist() == expected
    x, _, _ = WindowBatches(stack, ends, 20, "train")[torch.arange(len(ends))]
    assert torch.isfinite(x).all()


def test_batches_gather_rows_and_future_is_a_view():
    a, b = make_series(120, seed=1, sid="a"), make_series(90, seed=2, sid="b")
    stack = StackedSeries([a, b], horizon=4)
    # the future-target matrix shares the padded target's storage: no [N, H] copy
    assert stack.future.untyped_storage().data_ptr() == stack.z.untyped_storage().data_ptr()
    ends = window_ends(stack, [a, b], "train", window=16)
    ds = WindowBatches(stack, ends, 16, "train")
    x, y, ok = ds[torch.arange(len(ends))]
    assert x.shape == (len(ends), 16, 3) and y.shape == ok.shape == (len(ends), 16, 4)
    last = int(ends[-1] - stack.offsets[1])  # local origin of b's last window
    assert torch.equal(x[-1, -1], torch.from_numpy(b.x[last]))
    assert torch.equal(y[-1, -1][ok[-1, -1]], torch.from_numpy(b.z[last + 1 : last + 5])[ok[-1, -1]])


def test_training_targets_stay_inside_training_rows():
    a = make_series(200, seed=3)
    stack = StackedSeries([a], horizon=5)
    ends = window_ends(stack, [a], "train", window=24, stride=2)
    _, _, ok = WindowBatches(stack, ends, 24, "train", burn_in=4)[torch.arange(len(ends))]
    rows = torch.as_tensor(ends)[:, None] - torch.arange(23, -1, -1)  # [B, L]
    target_rows = rows[:, :, None] + torch.arange(1, 6)  # [B, L, H]
    assert ok.any()
    assert (target_rows[ok] < a.bounds.train_end).all()
    assert not ok[:, :4].any()  # burn-in steps carry no loss


def test_every_step_loss_uses_more_targets_than_last_step():
    a = make_series(400, seed=4)
    stack = StackedSeries([a], horizon=3)
    ends = window_ends(stack, [a], "train", window=32, stride=8)
    every = WindowBatches(stack, ends, 32, "train", burn_in=8)[torch.arange(len(ends))][2]
    last = WindowBatches(stack, ends, 32, "train", burn_in=8, every_step=False)[
        torch.arange(len(ends))
    ][2]
    assert not last[:, :-1].any() and int(last.sum()) <= len(ends) * 3
    assert int(every.sum()) > 10 * int(last.sum())  # ~ (32 - 8) targets per window and step


def test_window_cap_draws_a_fresh_sample_each_epoch():
    s = EpochBatches(1000, batch_size=32, shuffle=True, seed=7, cap=100)
    assert len(s) == 4
    s.set_epoch(0)
    e0 = torch.cat(list(s))
    assert len(e0) == 100 and len(set(e0.tolist())) == 100
    s.set_epoch(1)
    e1 = torch.cat(list(s))
    assert set(e0.tolist()) != set(e1.tolist())
    s.set_epoch(0)
    assert torch.equal(torch.cat(list(s)), e0)  # same epoch, same sample: resume replays it


def test_loader_caps_the_batches_per_epoch():
    a = make_series(600, seed=5)
    stack = StackedSeries([a], horizon=2)
    ends = window_ends(stack, [a], "train", window=16, stride=1)
    ds = WindowBatches(stack, ends, 16, "train")
    assert len(ds) > 300
    full = list(loader(ds, 50, shuffle=True))
    capped = list(loader(ds, 50, shuffle=True, cap=120))
    assert len(full) == -(-len(ds) // 50)
    assert [len(b[0]) for b in capped] == [50, 50, 20]


def test_one_series_inputs_are_not_copied():
    a = make_series(50, seed=6)
    stack = StackedSeries([a], horizon=2)
    assert np.shares_memory(stack.x.numpy(), a.x)
