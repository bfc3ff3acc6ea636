"""Windowed datasets built by index arithmetic over one contiguous tensor (views, never copies).

All series are stacked into one padded tensor X [N, F]; a window is just its last row index
(the forecast origin). A batch gathers rows `end - L + 1 ... end` with one fancy index, so
memory grows with rows x features, never with rows x window x features. The future-target
matrix Yf [N, H] is an `unfold` view of the padded target vector.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

Split = Literal["train", "val", "test"]


class StackedSeries:
    """All series in one padded tensor; row offsets say where each series starts."""

    def __init__(self, arrays: Sequence, horizon: int) -> None:
        self.horizon = horizon
        pad = horizon + 1  # NaN rows after each series so futures never cross into the next
        n_rows = sum(len(a.z) + pad for a in arrays)
        n_feat = arrays[0].x.shape[1]
        x = np.full((n_rows, n_feat), np.nan, dtype=np.float32)  # [N, F]
        z = np.full(n_rows + horizon, np.nan, dtype=np.float32)  # [N + H]
        self.offsets: list[int] = []
        self.train_limit = np.zeros(n_rows, dtype=np.int64)  # first global row past train, per row
        pos = 0
        for a in arrays:
            t = len(a.z)
            x[pos : pos + t] = a.x
            z[pos : pos + t] = a.z
            self.train_limit[pos : pos + t + pad] = pos + a.bounds.train_end
            self.offsets.append(pos)
            pos += t + pad
        self.x = torch.from_numpy(x)  # [N, F]
        self.z = torch.from_numpy(z)  # [N + H]
        self.future = self.z[1:].unfold(0, horizon, 1)[:n_rows]  # [N, H] view: z[a+1 .. a+H]
        bad = ~np.isfinite(x).all(axis=1)
        self._bad_cum = np.concatenate([[0], np.cumsum(bad)])  # inputs with a NaN, cumulative

    def inputs_ok(self, ends: np.ndarray, window: int) -> np.ndarray:
        """True where rows end-window+1 .. end are all finite."""
        return self._bad_cum[ends + 1] - self._bad_cum[ends + 1 - window] == 0


def window_ends(
    stack: StackedSeries, arrays: Sequence, split: Split, window: int, stride: int = 1
) -> np.ndarray:
    """Global row index of every usable forecast origin of a split.

    train: origins inside the training rows (stride apart, anchored at the newest one);
    val/test: every origin whose H future steps all fall inside that split (unobserved
    targets are masked in the batch, not dropped here).
    """
    h = stack.horizon
    ends: list[np.ndarray] = []
    for off, a in zip(stack.offsets, arrays, strict=True):
        b = a.bounds
        if split == "train":
            local = np.arange(b.train_end - 2, window - 2, -stride)[::-1]
        elif split == "val":
            local = np.arange(max(b.train_end - 1, window - 1), b.val_end - h)
        else:
            local = np.arange(max(b.val_end - 1, window - 1), b.length - h)
        g = local + off
        ends.append(g[stack.inputs_ok(g, window)] if len(g) else g)
    return np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)


class WindowBatches(Dataset):
    """A dataset whose items are whole batches: `ds[list_of_positions]` -> (x, y, mask)."""

    def __init__(
        self,
        stack: StackedSeries,
        ends: np.ndarray,
        window: int,
        split: Split,
        burn_in: int = 0,
        every_step: bool = True,
    ) -> None:
        self.stack, self.window, self.split = stack, window, split
        self.ends = torch.as_tensor(ends, dtype=torch.long)
        self.steps = torch.arange(window - 1, -1, -1)  # [L]: offsets back from the origin
        self.burn_in = min(burn_in, window - 1)
        self.every_step = every_step
        self.limit = torch.from_numpy(stack.train_limit)  # [N] view, no copy
        self.ahead = torch.arange(1, stack.horizon + 1)  # [H]

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(
        self, positions: torch.Tensor | list[int]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ends = self.ends[positions]  # [B]
        rows = ends[:, None] - self.steps[None, :]  # [B, L]
        x = self.stack.x[rows]  # [B, L, F]
        y = self.stack.future[rows]  # [B, L, H]
        ok = torch.isfinite(y)  # [B, L, H]: unobserved targets get no loss
        if self.split == "train" and self.every_step:
            ahead = rows[:, :, None] + self.ahead  # [B, L, H]
            ok &= ahead < self.limit[rows][:, :, None]  # targets stay inside the training rows
            ok[:, : self.burn_in] = False
        else:
            ok[:, :-1] = False  # the last step only: the real forecast origin
            if self.split == "train":
                ok[:, -1] &= ends[:, None] + self.ahead < self.limit[ends][:, None]  # [B, H]
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


def loader(
    ds: WindowBatches, batch_size: int, shuffle: bool, seed: int = 0, cap: int | None = None
) -> DataLoader:
    """DataLoader over whole-batch items (no per-window collate); `cap` windows per epoch."""
    sampler = EpochBatches(len(ds), batch_size, shuffle, seed, cap)
    return DataLoader(ds, sampler=sampler, batch_size=None, num_workers=0)
