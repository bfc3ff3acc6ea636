"""Windowed datasets built by index arithmetic over one contiguous tensor (views, never copies).

All series' inputs sit in one tensor X [T, F] (the caller's array itself when there is one
series); a window is just its last row index (the forecast origin). A batch gathers rows
`end - L + 1 ... end` with one fancy index, so memory grows with rows x features, never with
rows x window x features. Targets live in a padded vector (H + 1 NaN rows after each series, so
futures never cross into the next series) and the future-target matrix Yf [N, H] is an `unfold`
view of it. Origins (`ends`) are indices in that padded target space.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

Split = Literal["train", "val", "test"]
CHUNK = 1 << 16  # rows per pass when scanning inputs for NaN (bounds the temporary memory)


class StackedSeries:
    """All series' inputs in one tensor, targets in one padded vector; offsets say where each
    series starts in the padded (origin) space."""

    def __init__(self, arrays: Sequence, horizon: int) -> None:
        self.horizon = horizon
        pad = horizon + 1  # NaN target rows after each series
        lengths = [len(a.z) for a in arrays]
        n_rows = sum(lengths) + pad * len(arrays)  # N: padded rows
        xs = [np.asarray(a.x, dtype=np.float32) for a in arrays]
        x = np.ascontiguousarray(xs[0]) if len(xs) == 1 else np.concatenate(xs)  # [T, F]
        z = np.full(n_rows + horizon, np.nan, dtype=np.float32)  # [N + H]
        self.offsets = [int(v) for v in np.cumsum([0, *[t + pad for t in lengths[:-1]]])]
        self.x_offsets = [int(v) for v in np.cumsum([0, *lengths[:-1]])]  # rows of X
        origin_ok = np.zeros(n_rows, dtype=bool)  # [N] a window may end here (see SeriesArrays)
        for off, a, t in zip(self.offsets, arrays, lengths, strict=True):
            z[off : off + t] = a.z
            origin_ok[off : off + t] = True if a.origin_ok is None else a.origin_ok
        self.origin_ok = torch.from_numpy(origin_ok)  # [N]
        self._starts = torch.tensor(self.offsets, dtype=torch.long)  # [S]
        self._shift = torch.tensor([i * pad for i in range(len(arrays))])  # [S] padded - X row
        self._limit = torch.tensor(  # [S] first padded row past each series' training part
            [off + a.bounds.train_end for off, a in zip(self.offsets, arrays, strict=True)]
        )
        self.x = torch.from_numpy(x)  # [T, F], shares memory with a single caller array
        self.z = torch.from_numpy(z)  # [N + H]
        self.future = self.z[1:].unfold(0, horizon, 1)[:n_rows]  # [N, H] view: z[a+1 .. a+H]
        bad = np.zeros(len(x) + 1, dtype=np.int32)  # bad[i + 1]: row i of X holds a NaN
        for i in range(0, len(x), CHUNK):
            bad[i + 1 : i + CHUNK + 1] = ~np.isfinite(x[i : i + CHUNK]).all(axis=1)
        self._bad_cum = np.cumsum(bad, out=bad)  # NaN rows of X before each row, in place

    def locate(self, ends: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Origins in padded space [B] -> their rows of X [B] and training limits [B]."""
        series = torch.searchsorted(self._starts, ends, right=True) - 1  # [B]
        return ends - self._shift[series], self._limit[series]

    def inputs_ok(self, x_ends: np.ndarray, window: int) -> np.ndarray:
        """True where rows x_end-window+1 .. x_end of X are all finite."""
        return self._bad_cum[x_ends + 1] - self._bad_cum[x_ends + 1 - window] == 0


def window_ends(
    stack: StackedSeries, arrays: Sequence, split: Split, window: int, stride: int = 1
) -> np.ndarray:
    """Global (padded-space) row index of every usable forecast origin of a split.

    train: origins inside the training rows (stride apart, anchored at the newest one);
    val/test: every origin whose H future steps all fall inside that split (unobserved
    targets are masked in the batch, not dropped here). Windows with a NaN input (an unfilled
    gap, feature warm-up) or ending inside an interpolated gap (look-ahead) are skipped.
    """
    h = stack.horizon
    ends: list[np.ndarray] = []
    for off, x_off, a in zip(stack.offsets, stack.x_offsets, arrays, strict=True):
        b = a.bounds
        if split == "train":
            local = np.arange(b.train_end - 2, window - 2, -stride)[::-1]
        elif split == "val":
            local = np.arange(max(b.train_end - 1, window - 1), b.val_end - h)
        else:
            local = np.arange(max(b.val_end - 1, window - 1), b.length - h)
        if len(local):
            x_rows = local + x_off  # [W] the same origins as rows of X
            local = local[stack.inputs_ok(x_rows, window) & stack.origin_ok.numpy()[local + off]]
            del x_rows
            local += off  # padded space, in place
        ends.append(local)
    if len(ends) == 1:
        return ends[0]
    return np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)


class WindowBatches(Dataset):
    """A dataset whose items are whole batches: `ds[list_of_positions]` -> (x [B, L, F],
    y [B, L', H], mask [B, L', H]), targets at the window positions `at` (all L by default).

    `cumulative`: y[..., h] is the sum of the increments z[t+1 .. t+h+1] (the change since
    origin t of a differenced target), still only from rows after the origin."""

    def __init__(
        self,
        stack: StackedSeries,
        ends: np.ndarray,
        window: int,
        split: Split,
        burn_in: int = 0,
        every_step: bool = True,
        cumulative: bool = False,
        at: Sequence[int] | torch.Tensor | None = None,
    ) -> None:
        self.stack, self.window, self.split = stack, window, split
        self.cumulative = cumulative  # targets: sums of the first h increments (change since origin)
        self.ends = torch.as_tensor(ends, dtype=torch.long)  # [W] origins, padded space
        self.steps = torch.arange(window - 1, -1, -1)  # [L]: offsets back from the origin
        # [L'] window positions whose targets are built (every step by default): the segment
        # ends a network with segments forecasts from, or only the origin. Building [B, L, H]
        # targets to use L' of them cost more than the fit's own step on long windows.
        self.at = torch.arange(window) if at is None else torch.as_tensor(at, dtype=torch.long)
        if len(self.at) == 0 or int(self.at[-1]) != window - 1:
            raise ValueError("the target positions must end at the window's last step")
        self.burn_in = min(burn_in, window - 1)
        self.every_step = every_step
        self.ahead = torch.arange(1, stack.horizon + 1)  # [H]

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(
        self, positions: torch.Tensor | list[int]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ends = self.ends[positions]  # [B]
        x_ends, limit = self.stack.locate(ends)  # [B], [B]
        x = self.stack.x[x_ends[:, None] - self.steps[None, :]]  # [B, L, F]
        rows = ends[:, None] - self.steps[None, self.at]  # [B, L'] padded-space rows
        y = self.stack.future[rows]  # [B, L', H]
        if self.cumulative:  # a NaN increment leaves every later sum NaN (masked below)
            y = y.cumsum(-1)  # [B, L', H]
        ok = torch.isfinite(y)  # [B, L', H]: unobserved targets get no loss
        ok &= self.stack.origin_ok[rows][:, :, None]  # no step inside an interpolated gap
        if self.split == "train" and self.every_step:
            last_row = (limit[:, None] - self.ahead)[:, None, :]  # [B, 1, H]: row + h < limit
            ok &= rows[:, :, None] < last_row  # targets stay inside the training rows
            ok[:, self.at < self.burn_in] = False
        else:
            ok[:, :-1] = False  # the last step only: the real forecast origin
            if self.split == "train":
                ok[:, -1] &= ends[:, None] + self.ahead < limit[:, None]  # [B, H]
        return x, torch.nan_to_num(y), ok


class EpochBatches(Sampler[torch.Tensor]):
    """Batches of dataset positions; shuffled per epoch, optionally capped to `cap` windows.

    The order of epoch e depends only on (seed, e), so a resumed fit draws the same batches
    as an uninterrupted one (Lightning calls `set_epoch`).
    """

    def __init__(
        self, n: int, batch_size: int, shuffle: bool, seed: int = 0, cap: int | None = None
    ) -> None:
        self.n, self.batch_size, self.shuffle, self.seed = n, batch_size, shuffle, seed
        self.size = min(cap, n) if cap else n  # windows drawn per epoch
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return math.ceil(self.size / self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            order = torch.randperm(self.n, generator=g)[: self.size]  # [size]
        else:
            order = torch.arange(self.size)
        yield from order.split(self.batch_size)


class StreamBatches(Sampler[torch.Tensor]):
    """Exactly `steps` batches per epoch, cut from one continuing stream of shuffled passes.

    With a step budget an epoch is the stretch between two validation checks, not a pass over
    the windows: epoch e takes positions [e * steps * B, (e + 1) * steps * B) of the stream
    perm(0) + perm(1) + ..., where pass p is shuffled by (seed, p) only. Every window is drawn
    equally often, a short series wraps into new passes inside one epoch, and a resumed fit
    draws the same batches as an uninterrupted one (Lightning calls `set_epoch`).
    """

    def __init__(self, n: int, batch_size: int, steps: int, seed: int = 0) -> None:
        self.n, self.batch_size, self.steps, self.seed = n, batch_size, steps, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.steps

    def _pass(self, p: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + p)
        return torch.randperm(self.n, generator=g)  # [n]

    def __iter__(self) -> Iterator[torch.Tensor]:
        size = self.steps * self.batch_size
        start = self.epoch * size  # stream position of this epoch's first window
        parts, pos = [], start
        while pos < start + size:
            p, off = divmod(pos, self.n)
            take = min(self.n - off, start + size - pos)
            parts.append(self._pass(p)[off : off + take])
            pos += take
        yield from torch.cat(parts).split(self.batch_size)  # [steps] batches of [B]


def loader(
    ds: WindowBatches, batch_size: int, shuffle: bool, seed: int = 0, cap: int | None = None,
    steps: int | None = None,
) -> DataLoader:
    """DataLoader over whole-batch items (no per-window collate): `steps` batches per epoch
    from a continuing shuffled stream when given, else one pass (`cap` windows) per epoch.

    The loader has its own generator: without one, every iterator (each epoch) draws its base
    seed from torch's process-wide RNG, which can land between another fit's seeding and its
    weight init when fits run in threads side by side (backtest folds), changing that init."""
    if steps is not None:
        sampler: Sampler = StreamBatches(len(ds), batch_size, steps, seed)
    else:
        sampler = EpochBatches(len(ds), batch_size, shuffle, seed, cap)
    return DataLoader(ds, sampler=sampler, batch_size=None, num_workers=0,
                      generator=torch.Generator().manual_seed(seed))
