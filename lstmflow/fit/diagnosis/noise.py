"""noisy_optimisation: the val loss jumping from check to check, or weights wandering on a
gradient that is mostly noise (thresholds from bench/noisy_signal.py)."""

from __future__ import annotations

import numpy as np

from lstmflow.fit.diagnosis import thresholds as T
from lstmflow.fit.diagnosis.curves import divergence, finding
from lstmflow.fit.diagnosis.record import Finding, Run, pct


def jitter(values: np.ndarray) -> float:
    """Median |log v_k - (log v_k-1 + log v_k+1) / 2| over the interior checks: how far a loss
    jumps off the line through its neighbours (a trend, rising or falling, cancels)."""
    lv = np.log(np.where(values > 0, values, np.nan))  # [E]
    if len(lv) < 3 or not np.isfinite(lv).sum() >= 3:
        return float("nan")
    return float(np.nanmedian(np.abs(lv[1:-1] - (lv[:-2] + lv[2:]) / 2)))


def noisy_optimisation(run: Run) -> Finding | None:
    """The val loss jumps from check to check, or the weights wander on steps that are mostly
    gradient noise: a batch far below the gradient's noise scale, or a rate too high."""
    if run.epochs < T.MIN_EPOCHS_NOISE or divergence(run):
        return None
    jumps, share = jitter(run.curve("val_loss")), run.median("grad_signal")
    travel = run.median("weight_change")
    noisy = share is not None and share <= T.NOISE_SIGNAL
    wander = noisy and travel is not None and travel >= T.NOISE_TRAVEL
    if not (jumps >= T.NOISE_JITTER or wander):
        return None
    parts = []
    if jumps >= T.NOISE_JITTER:
        parts.append(f"the val loss jumps {pct(jumps)} off the line through its neighbours")
    if wander:
        parts.append(f"the weights move {pct(travel)} of their norm in a {run.span}")
    text = " and ".join(parts) + f" (median over {run.epochs} {run.unit}s)"
    if noisy:
        noise = f"about {(1 - share) / share:.0f}x" if share > 0 else "all of"
        text += (f"; consecutive steps' gradients share only {pct(share)} of their squared norm "
                 f"(the noise of a batch is {noise} its signal)")
    elif share is not None:
        text += (f"; consecutive steps' gradients share {pct(share)} of their squared norm, so "
                 "the steps are too long rather than too noisy")
    return finding("noisy_optimisation", "warning", text, run, signal=share)
