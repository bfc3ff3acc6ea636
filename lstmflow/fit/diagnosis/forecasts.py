"""Findings read from what the forecasts look like and from the cycle the data repeats.

`flat_forecast` and `lagged_copy` read the shape of the test forecasts next to the actuals and
the naive forecast (evaluate's `shape`, see shape.py); `short_context` reads the shortest
cycle of the training part and the window the model read (data_stats). On a series whose
changes are unpredictable (predictability at most NO_SIGNAL_R2) a forecast that copies the
last value is the best achievable: the finding says so at info level instead of blaming the
model.
"""

from __future__ import annotations

from typing import Any

from lstmflow.fit.diagnosis import thresholds as T
from lstmflow.fit.diagnosis.curves import finding
from lstmflow.fit.diagnosis.outcome import _predictability
from lstmflow.fit.diagnosis.record import Finding, Run, fmt, pct, versus
from lstmflow.text import listed


def _unpredictable(run: Run) -> dict[str, float]:
    """Series whose changes a linear model of their past does not predict: {series: R2}."""
    return {s: r2 for s, r2 in _predictability(run).items() if r2 <= T.NO_SIGNAL_R2}


def _rel(run: Run, sid: str, ref: str) -> float | None:
    """The model's MAE on a series over a baseline's: the network's own forecasts (unblended)
    when its forecast shape records them, else the scored metrics."""
    own = (run.shapes().get(sid) or {}).get("rel_mae") or {}
    if own.get(ref) is not None:
        return own[ref]
    m, b = run.series_metrics(sid).get("mae"), run.series_metrics(sid, ref).get("mae")
    return m / b if m is not None and b else None


def _copies(run: Run, sid: str, sh: dict[str, Any]) -> bool:
    """The model's errors are naive's (correlation) and it gains nothing on naive (MAE)."""
    rel = _rel(run, sid, "naive")
    corr = sh.get("error_corr")
    return (corr is not None and rel is not None and corr >= T.LAGGED_CORR
            and rel >= 1 - T.LAGGED_GAIN)


def _cycle_lag(run: Run, series: list[str]) -> int | None:
    """The longest cycle (steps) found in the training part of these series, if any."""
    lags = [c["lag"] for s in series if (c := run.series_stats().get(s, {}).get("cycle"))]
    return max(lags) if lags else None


def _verdict(run: Run, name: str, hits: list[str], evidence: dict[str, str], cause: str | None,
             persistent: set[str] | None = None) -> Finding:
    """One finding over the series that show the symptom: a warning naming those where it is
    a failure; info when every one of them is unpredictable and its forecast is persistence
    there (`persistent`, default all: a flat line at one value is not)."""
    walks = _unpredictable(run)
    failed = [s for s in hits if s not in walks or (persistent is not None and s not in persistent)]
    shown = failed or hits
    n = len(run.shapes()) if name != "short_context" else len(run.series_stats())
    text = (f"{len(shown)} of {n} series ({listed(shown)}): {evidence[shown[0]]}")
    if not failed:
        r2 = ", ".join(f"{s} {pct(walks[s])}" for s in hits[:3])
        return finding(name, "info", f"{text}; expected: their changes are not predictable from "
                       f"their past (out-of-sample R2 of a linear model: {r2}), so persistence is "
                       "the best achievable", run, "expected", shown)
    if len(failed) < len(hits):
        text += f"; also on {len(hits) - len(failed)} unpredictable series, where it is expected"
    return finding(name, "warning", text, run, cause, shown, lag=_cycle_lag(run, shown))


def lagged_copy(run: Run) -> Finding | None:
    """The forecasts track the last observed value: errors nearly naive's, nothing gained."""
    hits, say = [], {}
    for sid, sh in run.shapes().items():
        if _copies(run, sid, sh):
            hits.append(sid)
            say[sid] = (f"the model's errors correlate {sh['error_corr']:.3f} with naive's and its "
                        f"MAE is {versus(_rel(run, sid, 'naive'))} naive's: its forecasts stay "
                        f"near the last observed value (they move {pct(sh['move'])} as far from "
                        "it as the actuals do), the actuals shifted forward")
    hits.sort(key=lambda s: -run.shapes()[s]["error_corr"])
    return _verdict(run, "lagged_copy", hits, say, None) if hits else None


def flat_forecast(run: Run) -> Finding | None:
    """The forecasts hardly vary over the test origins and lose to a baseline for it (a flat
    line at the mean of a noisy series that beats both is right), or
    hardly vary along the horizon where the actuals repeat a cycle (a copy of the last value
    is lagged_copy instead)."""
    flat, along, say = [], [], {}
    for sid, sh in run.shapes().items():
        rels = {ref: r for ref in ("naive", "seasonal_naive") if (r := _rel(run, sid, ref))}
        lost = max(rels, key=rels.get) if rels else None  # the baseline it loses to most
        if sh.get("spread") is not None and sh["spread"] <= T.FLAT_SPREAD and lost \
                and rels[lost] >= 1:
            flat.append(sid)
            say[sid] = (f"the forecasts spread only {pct(sh['spread'])} as much as the actuals "
                        f"over the {run.period} origins (standard deviation {fmt(sh['model_sd'])} against "
                        f"{fmt(sh['actual_sd'])}), nearly a flat line, and their MAE is "
                        f"{versus(rels[lost])} {lost.replace('_', ' ')}'s")
        elif (sh.get("path_amp") is not None and sh["path_amp"] <= T.FLAT_SPREAD
              and (sh.get("seasonal_path_skill") or 0) > T.FLAT_PATH_SKILL
              and not _copies(run, sid, sh)):
            along.append(sid)
            say[sid] = (f"the actuals repeat a cycle within the horizon (the path one season "
                        f"earlier predicts their shape with skill {sh['seasonal_path_skill']:.2f}) "
                        f"but the model's paths swing only {pct(sh['path_amp'])} as much as the "
                        "actual paths: flat along the horizon")
    if not flat and not along:
        return None
    return _verdict(run, "flat_forecast", flat + along, say, None if flat else "horizon",
                    set(along))


def short_context(run: Run) -> Finding | None:
    """The training part repeats a cycle longer than the window the model reads."""
    window = (run.stats or {}).get("input_size")
    if not window:
        return None
    hits, say = [], {}
    for sid, s in run.series_stats().items():
        c = s.get("cycle")
        if c and c["lag"] > window:
            hits.append(sid)
            snaive = _rel(run, sid, "seasonal_naive")
            vs = (f"; the model's {run.period} MAE is {versus(snaive)} seasonal naive's"
                  if snaive is not None else "")
            say[sid] = (f"the training part repeats a cycle of {c['lag']} steps (its changes over "
                        f"{c['span']} steps correlate {c['acf']:.2f} with those one cycle "
                        f"earlier) but the model reads a window of {window} steps, "
                        f"{pct(window / c['lag'])} of the cycle{vs}")
    hits.sort(key=lambda s: -run.series_stats()[s]["cycle"]["acf"])
    return _verdict(run, "short_context", hits, say, None) if hits else None
