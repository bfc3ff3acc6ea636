"""Findings read from the training curves: losses, gradient norms, weight changes per epoch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmflow.fit.diagnosis import thresholds as T
from lstmflow.fit.diagnosis.record import Finding, Run, fmt, pct
from lstmflow.fit.diagnosis.remedies import REMEDIES


def finding(name: str, severity: str, evidence: str, run: Run, cause: str | None = None,
            series: Sequence[str] = (), **facts: Any) -> Finding:
    """A finding with the remedy its name (and cause) calls for, from the run's config;
    `facts` are numbers read from the data that a remedy needs (e.g. a cycle's length)."""
    advice, overrides = REMEDIES[name](run.config, cause, **facts)
    return Finding(name, severity, evidence, advice, overrides, list(series))


def data_extreme(run: Run) -> tuple[str, str, float] | None:
    """(series, split, |value|) of the largest scaled target beyond DATA_BLOWUP, if any."""
    worst = None
    for sid, s in run.series_stats().items():
        for split in ("train", "val", "test"):
            big = (s.get(split) or {}).get("max_abs")
            if big is not None and big >= T.DATA_BLOWUP and (worst is None or big > worst[2]):
                worst = (sid, split, big)
    return worst


def reference(run: Run, split: str) -> float | None:
    """The loss a constant forecast scores on the split (median over epochs), or None."""
    return run.median(f"{split}_loss_zero")


def _first(run: Run, mask: np.ndarray) -> str:
    """The first row where `mask` holds, as the log names it ('check 2 (step 256)')."""
    return run.at(int(np.flatnonzero(mask)[0]))


def divergence(run: Run) -> Finding | None:
    """Non-finite losses or weights, a loss far above a constant forecast's, or a training
    loss climbing off its minimum."""
    if run.epochs == 0:
        return finding("divergence", "error", f"training stopped before its first {run.span} ended "
                       "and produced no finite validation loss", run)
    why, spikes = [], []
    bad_loss, bad_w = run.curve("nonfinite_losses"), run.curve("nonfinite_weights")
    if np.nansum(bad_loss) > 0:
        why.append(f"{int(np.nansum(bad_loss))} training batches had a non-finite loss "
                   f"(first in {_first(run, bad_loss > 0)})")
    if np.nansum(bad_w) > 0:
        why.append(f"the weights held {int(np.nanmax(bad_w))} non-finite values after "
                   f"{_first(run, bad_w > 0)}")
    val = run.curve("val_loss")
    if not np.isfinite(val).all():
        why.append(f"the validation loss was not finite at {_first(run, ~np.isfinite(val))}")
    for split in ("train", "val"):
        loss, ref = run.curve(f"{split}_loss"), reference(run, split)
        if ref and np.isfinite(loss).any() and np.nanmax(loss) >= T.LOSS_BLOWUP * ref:
            i = int(np.nanargmax(loss))
            spikes.append(f"the {split} loss reached {fmt(loss[i])} at {run.at(i)}, "
                          f"{fmt(loss[i] / ref, 2)}x what a constant forecast scores "
                          f"({fmt(ref)})")
    train = run.curve("train_loss")
    fin = np.flatnonzero(np.isfinite(train))
    if len(fin) > 1:
        lo, last = int(np.nanargmin(train)), fin[-1]
        if train[lo] > 0 and train[last] >= T.TRAIN_RISE * train[lo]:
            why.append(f"the train loss climbed from its minimum {fmt(train[lo])} ("
                       f"{run.at(lo)}) to {fmt(train[last])} ({run.at(last)})")
    back = recovered(run) if spikes and not why else None
    if back:  # the kept weights are sound: a warning
        return finding("divergence", "warning", "; ".join(spikes) + f", then came back: "
                       f"{back}; the fit is usable, the learning rate too high", run)
    why += spikes
    if not why:
        return None
    extreme = data_extreme(run)
    if extreme:
        why.append(f"the data explains it: the scaled target reaches {fmt(extreme[2])} in the "
                   f"{extreme[1]} part of series {extreme[0]}")
    return finding("divergence", "error", "; ".join(why), run, "data" if extreme else None)


def recovered(run: Run) -> str | None:
    """How a fit whose loss blew up came back, or None: both losses end under LOSS_BLOWUP x a
    constant forecast's, and the best validation loss (the weights kept) is finite."""
    out = []
    for split in ("train", "val"):
        loss, ref = run.curve(f"{split}_loss"), reference(run, split)
        if not ref or not len(loss) or not np.isfinite(loss[-1]) \
                or loss[-1] >= T.LOSS_BLOWUP * ref:
            return None
        out.append(f"{split} loss {fmt(loss[-1])} at {run.at(len(loss) - 1)} "
                   f"({loss[-1] / ref:.2f}x)")
    val = run.curve("val_loss")
    if not np.isfinite(val).any():
        return None
    return ", ".join(out) + f", best val loss {fmt(np.nanmin(val))}"


def _gradient_ends(run: Run, stat: str) -> tuple[str, np.ndarray, np.ndarray] | None:
    """(first layer, its norms, the head's norms) per epoch, or None when not recorded."""
    layers = run.layers()
    if len(layers) < 2 or "head" not in layers:
        return None
    first = layers[0]
    return (first, run.curve(f"grad_norm_{stat}:{first}"),
            run.curve(f"grad_norm_{stat}:head"))


def exploding_gradients(run: Run) -> Finding | None:
    """Non-finite gradients, the first layer's gradient far above the head's (AutoTrainer), or
    a gradient norm far above any a sound fit of scaled targets takes."""
    why = []
    bad = run.curve("nonfinite_grads")
    if np.nansum(bad) > 0:
        why.append(f"{int(np.nansum(bad))} optimiser steps had non-finite gradients (first in "
                   f"{_first(run, bad > 0)})")
    ends = _gradient_ends(run, "max")
    if ends is not None:
        first, g0, gh = ends
        ratio = g0 / np.where(gh > 0, gh, np.nan)
        if np.isfinite(ratio).any() and np.nanmax(ratio) > T.EXPLODE_RATIO:
            i = int(np.nanargmax(ratio))
            why.append(f"the gradient norm of the first LSTM layer ({first}) reached "
                       f"{fmt(g0[i])} at {run.at(i)}, {fmt(ratio[i], 2)}x the head's "
                       f"({fmt(gh[i])})")
    total = run.curve("grad_norm_max")
    if not why and np.isfinite(total).any() and np.nanmax(total) >= T.EXPLODE_ABS:
        i = int(np.nanargmax(total))
        why.append(f"the gradient norm reached {fmt(total[i])} at {run.at(i)} before clipping, "
                   f"on a loss of scaled targets (a sound fit stays near 1)")
    if not why:
        return None
    return finding("exploding_gradients", "error" if np.nansum(bad) > 0 else "warning",
                   "; ".join(why), run)


def vanishing_gradients(run: Run) -> Finding | None:
    """In a check of the run's second half the first layer's gradient is orders of magnitude
    below the head's and tiny in absolute terms (AutoTrainer's beta_1 and beta_2): gates that
    saturated after a large step can recover a little by the last check and still be stuck."""
    ends = _gradient_ends(run, "mean")
    if ends is None or run.epochs == 0:
        return None
    first, g0, gh = ends
    hits = [i for i in range(run.epochs // 2, run.epochs)
            if np.isfinite(g0[i]) and np.isfinite(gh[i]) and gh[i] > 0
            and g0[i] < T.VANISH_ABS and g0[i] < T.VANISH_RATIO * gh[i]]
    if not hits:
        return None
    i = min(hits, key=lambda k: g0[k] / gh[k])
    a, b = g0[i], gh[i]
    when = f"the last {run.span}" if i == run.epochs - 1 else run.at(i)
    return finding("vanishing_gradients", "warning",
                   f"in {when} the mean gradient norm of the first LSTM layer ({first}) was "
                   f"{fmt(a)}, {fmt(b / a if a > 0 else np.inf, 2)}x smaller than the head's "
                   f"({fmt(b)})", run)


def overfitting(run: Run) -> Finding | None:
    """Validation loss rising off its best check while the training loss keeps falling, or
    rising at all while the training loss falls to a fraction of its value (memorising), or
    training windows learnt by heart while validation stays worse than a constant forecast."""
    val, train = run.curve("val_loss"), run.curve("train_loss")
    if run.epochs < 2 or not np.isfinite(val).any():
        return None
    windows = training_windows(run)
    on = f", on {windows} training windows" if windows else ""
    by_heart = _by_heart(run)
    if by_heart is not None:
        t, tz, v, vz = by_heart
        return finding("overfitting", "warning",
                       f"the train loss fell to {fmt(t)}, {pct(t / tz)} of a constant forecast's "
                       f"({fmt(tz)}), while the best val loss {fmt(v)} stayed above a constant "
                       f"forecast's ({fmt(vz)}){on}: the training windows were learnt by heart",
                       run, "by_heart", windows=windows)
    b, last = int(np.nanargmin(val)), run.epochs - 1
    if b == last or val[b] <= 0 or not (np.isfinite(val[last])
                                          and np.isfinite(train[[b, last]]).all()):
        return None
    gl = val[last] / val[b] - 1
    memorised = gl > 0 and train[last] <= T.OVERFIT_MEMORISED * train[b]
    if (gl >= T.OVERFIT_GL and train[last] <= (1 - T.TRAIN_FALLING) * train[b]) or memorised:
        return finding("overfitting", "warning",
                       f"val loss fell to {fmt(val[b])} at {run.at(b)} then rose "
                       f"{pct(gl)} by {run.at(last)} while train loss kept falling "
                       f"from {fmt(train[b])} to {fmt(train[last])}{on}", run,
                       "memorised" if memorised else None, windows=windows)
    return None


def _by_heart(run: Run) -> tuple[float, float, float, float] | None:
    """(lowest train loss, constant forecast's, lowest val loss, constant forecast's) when the
    first is below OVERFIT_BY_HEART of its constant and the val loss never got below its own."""
    train, val = run.curve("train_loss"), run.curve("val_loss")
    tz, vz = reference(run, "train"), reference(run, "val")
    if tz is None or vz is None or not (tz > 0 and vz > 0) or not np.isfinite(train).any():
        return None
    t, v = float(np.nanmin(train)), float(np.nanmin(val))
    return (t, tz, v, vz) if t <= T.OVERFIT_BY_HEART * tz and v >= vz else None


def training_windows(run: Run) -> int | None:
    """Training windows the data offered (origins with a full input window and horizon in each
    series' training part, from the data statistics), or None when they were not recorded."""
    stats = run.stats or {}
    size, horizon = stats.get("input_size"), stats.get("horizon")
    rows = [(s.get("train") or {}).get("n") for s in (stats.get("per_series") or {}).values()]
    if not size or not horizon or not rows or None in rows:
        return None
    return int(sum(max(0, n - size - horizon + 1) for n in rows))


def is_plateau(run: Run) -> tuple[float, float] | None:
    """(val gain over the run, largest epoch weight change) when both say nothing moved."""
    val, change = run.curve("val_loss"), run.curve("weight_change")
    if run.epochs < T.MIN_EPOCHS_PLATEAU or not val[0] > 0:  # NaN and 0 say nothing
        return None
    gain = 1 - np.nanmin(val) / val[0]
    moved = float(np.nanmax(change)) if np.isfinite(change).any() else np.nan
    if gain < T.PLATEAU_GAIN and not moved >= T.PLATEAU_WEIGHT_CHANGE:
        return float(gain), moved
    return None


def plateau(run: Run) -> Finding | None:
    found = is_plateau(run)
    if found is None:
        return None
    gain, moved = found
    val = run.curve("val_loss")
    moved_s = (f"; the weights changed at most {pct(moved)} in a {run.span}"
               if np.isfinite(moved) else "")
    return finding("plateau", "warning",
                   f"over {run.epochs} {run.unit}s the val loss improved only {pct(gain)} "
                   f"({fmt(val[0])} to {fmt(np.nanmin(val))}){moved_s}", run)


def not_converged(run: Run) -> Finding | None:
    """The val loss was still falling when training ended (the budget, not early stopping)."""
    val = run.curve("val_loss")
    if run.epochs < 2 or not np.isfinite(val).any():
        return None
    b, last = int(np.nanargmin(val)), run.epochs - 1
    start = max(0, last - max(1, run.epochs // 3))
    if last - b >= T.NOT_CONVERGED_LAST or not val[start] > 0:
        return None
    gain = 1 - val[b] / val[start]
    if gain < T.NOT_CONVERGED_GAIN or is_plateau(run) or divergence(run):
        return None  # recovering from a blow-up is not a budget problem
    return finding("not_converged", "warning",
                   f"the val loss was still falling when training stopped: {pct(gain)} lower "
                   f"over the last {last - start} {run.unit}s ({fmt(val[start])} to {fmt(val[b])}, "
                   f"best at {run.at(b)} of {run.epochs})", run)
