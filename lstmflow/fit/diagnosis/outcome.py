"""Findings that read the data statistics and the test metrics, with the curves where needed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lstmflow.data.prepare import ranges_outside
from lstmflow.fit.diagnosis import thresholds as T
from lstmflow.fit.diagnosis.curves import divergence, finding, is_plateau, reference
from lstmflow.fit.diagnosis.record import Finding, Run, fmt, pct, versus
from lstmflow.text import listed


def _predictability(run: Run) -> dict[str, float]:
    return {sid: s["predictability"] for sid, s in run.series_stats().items()
            if s.get("predictability") is not None}


def random_walks(run: Run) -> list[str]:
    """Series whose changes are not predictable from their past (and, when the model was
    scored, that the model does not beat naive on by more than NO_SIGNAL_GAIN)."""
    per = (run.metrics or {}).get("per_series") or {}
    out = []
    for sid, r2 in _predictability(run).items():
        rel = ((per.get(sid) or {}).get("model") or {}).get("rel_mae")
        if r2 <= T.NO_SIGNAL_R2 and (rel is None or rel >= 1 - T.NO_SIGNAL_GAIN):
            out.append(sid)
    return out


def no_signal(run: Run) -> Finding | None:
    walks = random_walks(run)
    if not walks:
        return None
    r2 = _predictability(run)
    shown = listed([f"{s} {pct(r2[s])}" for s in walks])
    scored = (f"; the model's MAE is not {pct(T.NO_SIGNAL_GAIN)} below naive's there either"
              if run.metrics else "")
    return finding("no_signal", "info",
                   f"{len(walks)} of {len(r2)} series behave like a random walk: past changes "
                   f"do not predict the next ones (out-of-sample R2 of a linear model: {shown})"
                   f"{scored}, so naive is the best achievable", run)


def underfitting(run: Run) -> Finding | None:
    """The model removed far less of the constant forecast's training loss than a linear
    model of the changes removes out of sample: it cannot even fit what is there to learn."""
    r2 = list(_predictability(run).values())
    train, ref = run.curve("train_loss"), reference(run, "train")
    if not r2 or not ref or not np.isfinite(train).any() or is_plateau(run) \
            or divergence(run):
        return None  # a stuck optimiser or a blown-up fit explains the high loss better
    signal = float(np.median(r2))
    best = int(np.nanargmin(train))
    if signal <= T.NO_SIGNAL_R2:  # nothing to learn (no_signal): the constant is the bar
        if train[best] / ref < 1 + T.UNDERFIT_ABOVE_ZERO:
            return None
        return finding("underfitting", "warning",
                       f"the lowest train loss {fmt(train[best])} ({run.at(best)}) is "
                       f"{versus(train[best] / ref)} a constant forecast's {fmt(ref)}: the "
                       f"changes are not predictable from the past (out-of-sample R2 of a "
                       f"linear model {pct(signal)}), but a fit should still reach the constant "
                       "forecast's loss", run)
    if 1 - train[best] / ref >= T.UNDERFIT_SHARE * signal:
        return None
    return finding("underfitting", "warning",
                   f"the lowest train loss {fmt(train[best])} ({run.at(best)}) is "
                   f"{versus(train[best] / ref)} a constant forecast's {fmt(ref)}, while a linear model "
                   f"of past changes removes {pct(signal)} of the error variance out of sample",
                   run)


def distribution_shift(run: Run) -> Finding | None:
    """The scaled target's spread or centre in val or test is far from the training part's,
    or its levels left the training range (`level_shifts`: what a return or difference target
    does not show).

    A later period wilder than training, or moved off its centre, makes the model extrapolate
    (warning); one merely calmer is worth knowing but rarely hurts a forecast (info)."""
    shifted = []  # (how far past the threshold, series, split, spread ratio, location shift)
    for sid, s in run.series_stats().items():
        tr = s.get("train") or {}
        if not tr.get("spread"):
            continue
        for split in ("val", "test"):
            m = s.get(split) or {}
            if m.get("spread") is None:
                continue
            ratio = m["spread"] / tr["spread"]
            loc = abs(m["median"] - tr["median"]) / tr["spread"]
            if ratio >= T.SHIFT_SPREAD or ratio <= 1 / T.SHIFT_SPREAD or loc >= T.SHIFT_LOCATION:
                score = max(abs(np.log(ratio)) / np.log(T.SHIFT_SPREAD), loc / T.SHIFT_LOCATION)
                shifted.append((score, sid, split, ratio, loc))
    levels = level_shifts(run)
    if not shifted and not levels:
        return None
    parts, harmful = [], bool(levels)
    if shifted:
        _, sid, split, ratio, loc = max(shifted)
        names = sorted({s[1] for s in shifted})
        harmful |= any(r >= T.SHIFT_SPREAD or x >= T.SHIFT_LOCATION for _, _, _, r, x in shifted)
        parts.append(f"in the {split} period of series {sid} the scaled target's spread is "
                     f"{fmt(ratio, 2)}x the training spread and its median moved {fmt(loc, 2)} "
                     f"training spreads; {len(names)} of {len(run.series_stats())} series "
                     f"shifted ({listed(names)})")
    if levels:
        far, sid, split, med, tr = max(levels)
        parts.append(f"the {split} period's levels of series {sid} (median {fmt(med)}) lie "
                     f"{fmt(far, 2)} training ranges outside the training range ({fmt(tr['min'])}"
                     f" to {fmt(tr['max'])}): the model never saw such levels, and inputs that "
                     f"scale with them (rolling means, volatility) moved too; "
                     f"{len({x[1] for x in levels})} series left their range")
    return finding("distribution_shift", "warning" if harmful else "info", "; ".join(parts), run)


def level_shifts(run: Run) -> list[tuple[float, str, str, float, dict]]:
    """(training ranges outside, series, split, median level, training range) of every later
    period whose median level lies LEVEL_OUTSIDE or more training ranges outside the training
    part's range."""
    out = []
    for sid, s in run.series_stats().items():
        lv = s.get("level") or {}
        tr = lv.get("train")
        if not tr or tr["max"] <= tr["min"]:
            continue
        for split in ("val", "test"):
            med = (lv.get(split) or {}).get("median")
            if med is None or (split == "test" and run.period == "validation"):
                continue
            far = float(ranges_outside(med, tr["min"], tr["max"]))
            if far >= T.LEVEL_OUTSIDE:
                out.append((far, sid, split, med, tr))
    return out


def _ratio(run: Run, ref: str) -> float | None:
    """The model's MAE relative to a baseline: geometric mean over series, else pooled."""
    o = (run.metrics or {}).get("overall") or {}
    rel = o["model"].get("rel_mae" if ref == "naive" else "rel_mae_vs_seasonal_naive")
    if rel is None and o[ref]["mae"] > 0:
        rel = o["model"]["mae"] / o[ref]["mae"]
    return rel


def worse_than_baseline(run: Run) -> Finding | None:
    """The model's MAE is not below naive's and/or seasonal naive's (the promotion rule)."""
    if not run.overall("model"):
        return None
    rel = {ref: _ratio(run, ref) for ref in ("naive", "seasonal_naive")}
    worse = [ref for ref, r in rel.items() if r is not None and r >= T.WORSE]
    if not worse:
        return None
    n = len(run.metrics.get("per_series") or {})
    parts = [f"{versus(r)} {ref.replace('_', ' ')}'s (relative MAE {fmt(r)})"
             for ref, r in rel.items() if r is not None]
    far = [ref for ref in worse if rel[ref] >= T.WORSE_ERROR]  # no data excuses this
    expected = walked(run) and not far
    level = expected and worse == ["naive"] and at_naive_level(run)
    severity = ("error" if far or (len(worse) == 2 and not expected) else
                "info" if level else "warning")
    note = ("; at naive's level, the best achievable on a random walk (see no_signal)" if level
            else "; expected on a random walk (see no_signal)" if expected else
            f"; {T.WORSE_ERROR:g}x or more is more than seed noise explains, whatever the data"
            if far else "")
    return finding("worse_than_baseline", severity,
                   f"the model's {run.period} MAE is {' and '.join(parts)}, geometric mean over {n} "
                   f"series{note}", run)


def walked(run: Run) -> bool:
    """Most scored series behave like random walks (no_signal)."""
    return len(random_walks(run)) * 2 > len(_predictability(run)) > 0


def at_naive_level(run: Run) -> bool:
    """The model's MAE is within NO_SIGNAL_GAIN of naive's (either side)."""
    r = _ratio(run, "naive") if run.overall("model") else None
    return r is not None and abs(r - 1) < T.NO_SIGNAL_GAIN


def expected_on_walks(found: list[Finding], run: Run) -> list[Finding]:
    """Overfitting is info where most series are random walks and the model scored at naive's
    level: past changes hold nothing but noise to learn, early stopping kept the best check,
    and no regularisation beats naive there. Above naive's level it stays a warning."""
    if not (walked(run) and at_naive_level(run)):
        return found
    return [replace(f, severity="info", evidence=f"{f.evidence}; expected on a random walk at "
                    "naive's level (see no_signal): any fitting learns noise")
            if f.finding == "overfitting" and f.severity == "warning" else f for f in found]


def healthy(run: Run) -> Finding:
    """Nothing wrong: say what went right, with the numbers."""
    val = run.curve("val_loss")
    parts = []
    if np.isfinite(val).any():
        b = int(np.nanargmin(val))
        parts.append(f"val loss fell from {fmt(val[0])} to {fmt(val[b])}, best at "
                     f"{run.at(b)} of {run.epochs} {run.unit}s" if b else
                     f"val loss was lowest ({fmt(val[0])}) at the first of {run.epochs} "
                     f"{run.unit}s, {run.at(0)}")
    if run.overall("model"):
        rel = {ref: _ratio(run, ref) for ref in ("naive", "seasonal_naive")}
        parts.append(f"the model's {run.period} MAE is " + " and ".join(
            f"{versus(r)} {ref.replace('_', ' ')}'s" for ref, r in rel.items() if r is not None))
    return Finding("healthy", "info", "; ".join(parts) or "nothing unusual was recorded",
                   "Nothing to change.", [])


def linear_enough(run: Run) -> Finding | None:
    """The network with a linear highway forecasts validation no better than its highway alone
    (stats['highway']: both MAEs on the same validation points, model alone, original units):
    the LSTM part adds nothing a linear autoregression does not."""
    h = (run.stats or {}).get("highway")
    if not h or not h.get("highway_mae") or h.get("model_mae") is None:
        return None
    gain = 1 - h["model_mae"] / h["highway_mae"]
    if gain >= T.LSTM_ADDS:
        return None
    return finding("linear_enough", "info",
                   f"on the {h['points']} validation points the linear highway alone scores MAE "
                   f"{fmt(h['highway_mae'])} and the whole network {fmt(h['model_mae'])} "
                   f"({pct(abs(gain))} {'better' if gain >= 0 else 'worse'}, under the "
                   f"{pct(T.LSTM_ADDS)} that would show the LSTM adds something)", run)
