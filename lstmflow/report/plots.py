"""The report's figures as base64 PNG strings (matplotlib, Agg, no pyplot global state)."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd

COLORS = {"train": "#1f77b4", "val": "#d62728", "model": "#1f77b4", "naive": "#7f7f7f",
          "seasonal_naive": "#2ca02c", "actual": "#000000"}
LABELS = {"model": "model", "naive": "naive", "seasonal_naive": "seasonal naive"}


def _figure(rows: int = 1, cols: int = 1, width: float = 7.5, height: float = 3.0):
    """A figure with fixed margins (a layout engine would draw every figure twice)."""
    from matplotlib.figure import Figure  # the Agg canvas; never touches a display

    fig = Figure(figsize=(width, height * rows), dpi=96)
    axes = fig.subplots(rows, cols, squeeze=False)
    tall = height * rows
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.2 / width, bottom=0.55 / tall,
                        top=1 - 0.35 / tall, wspace=0.22, hspace=0.75 / height)
    return fig, axes


def to_png(fig) -> str:
    """The figure as a base64 PNG string for a data: URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _log_axis(ax) -> None:
    """Log y axis with plain tick labels (0.3, not 3x10^-1) and whole numbers on x."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _curve(history: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if h.get(key) is None else float(h[key]) for h in history])


def _positive(ax, x: np.ndarray, y: np.ndarray, **kw) -> None:
    """Plot only finite positive points (a log axis cannot show the rest)."""
    ok = np.isfinite(y) & (y > 0)
    if ok.any():
        ax.plot(x[ok], y[ok], **kw)


def _x_axis(history: list[dict[str, Any]]) -> tuple[np.ndarray, str]:
    """One x per history row: the optimizer step it ended at (what the training log counts),
    or the epoch number for histories recorded without steps."""
    steps = [h.get("step") for h in history]
    if all(isinstance(s, int) for s in steps):
        return np.asarray(steps), "optimizer step (a point per validation check)"
    return np.arange(1, len(history) + 1), "epoch"


def loss_and_lr(history: list[dict[str, Any]]) -> str | None:
    """Train and val loss at each validation check (log scale) with the constant-forecast
    reference, and the learning rate."""
    if not history:
        return None
    x, xlabel = _x_axis(history)
    fig, ax = _figure(1, 2, width=11)
    loss, lr = ax[0, 0], ax[0, 1]
    for split in ("train", "val"):
        _positive(loss, x, _curve(history, f"{split}_loss"), color=COLORS[split],
                  marker="o", ms=3, label=f"{split} loss")
        _positive(loss, x, _curve(history, f"{split}_loss_zero"), color=COLORS[split],
                  ls=":", label=f"{split}: constant forecast")
    _log_axis(loss)
    loss.set(xlabel=xlabel, ylabel="loss (scaled units)", title="Loss at each validation check")
    loss.legend(fontsize=8)
    _positive(lr, x, _curve(history, "lr"), color="#9467bd", marker="o", ms=3)
    _log_axis(lr)
    lr.set(xlabel=xlabel, ylabel="learning rate", title="Learning rate")
    for a in (loss, lr):
        a.grid(alpha=0.3)
    return to_png(fig)


def lr_finder(result: dict[str, Any] | None) -> str | None:
    """The learning-rate finder's curve (loss against rate, both log scale) with the chosen
    rate marked: what `learning_rate: auto` read its value from (lr_find.json)."""
    if not result or not result.get("lr"):
        return None
    lr = np.asarray(result["lr"], dtype="float64")
    loss = np.array([np.nan if v is None else v for v in result["loss"]], dtype="float64")
    fig, ax = _figure(1, 1)
    a = ax[0, 0]
    _positive(a, lr, loss, color=COLORS["train"], label="training loss (smoothed)")
    a.set_xscale("log")
    _log_axis(a)
    chosen = result.get("chosen")
    if chosen:
        how = "suggested" if result.get("suggestion") else "fallback"
        a.axvline(chosen, color=COLORS["val"], ls="--", label=f"chosen {chosen:.3g} ({how})")
    a.set(xlabel="learning rate", ylabel="loss (scaled units)",
          title=f"Learning-rate finder ({result.get('steps')} steps)")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
    return to_png(fig)


def gradient_norms(history: list[dict[str, Any]]) -> str | None:
    """Mean gradient norm per layer between validation checks (before clipping), log scale;
    max as dashes."""
    layers = sorted({k.split(":", 1)[1] for h in history for k in h
                     if k.startswith("grad_norm_mean:")},
                    key=lambda n: (n == "head", int(n[6:]) if n.startswith("lstm.l") else 0))
    if not layers:
        return None
    x, xlabel = _x_axis(history)
    fig, ax = _figure(width=11)
    a = ax[0, 0]
    cmap = _colormap(len(layers))
    for i, layer in enumerate(layers):
        _positive(a, x, _curve(history, f"grad_norm_mean:{layer}"), color=cmap[i],
                  marker="o", ms=3, label=f"{layer} mean")
        _positive(a, x, _curve(history, f"grad_norm_max:{layer}"), color=cmap[i], ls="--",
                  alpha=0.6)
    _log_axis(a)
    a.set(xlabel=xlabel, ylabel="gradient norm",
          title="Gradient norm per layer (solid: mean per step, dashed: max), before clipping")
    a.grid(alpha=0.3)
    a.legend(fontsize=8, ncol=min(4, len(layers)))
    return to_png(fig)


def _colormap(n: int) -> list:
    from matplotlib import colormaps

    cm = colormaps["viridis"]
    return [cm(v) for v in np.linspace(0.0, 0.85, max(n, 1))]


def forecasts(frame: pd.DataFrame, max_series: int = 8) -> str | None:
    """Per series (first `max_series`): actuals over the test period and the one-step-ahead
    forecasts of model, naive and seasonal naive (with the model's interval when fitted)."""
    if frame is None or frame.empty:
        return None
    series = list(dict.fromkeys(frame["series_id"]))[:max_series]
    cols = 2 if len(series) > 1 else 1
    rows = -(-len(series) // cols)
    fig, ax = _figure(rows, cols, width=11, height=2.6)
    for i, sid in enumerate(series):
        a = ax[i // cols, i % cols]
        one = frame[(frame["series_id"] == sid) & (frame["step"] == 1)]
        t = np.arange(len(one))  # positions, labelled with dates below (date locators are slow)
        _date_ticks(a, pd.to_datetime(one["time"]))
        a.plot(t, one["actual"], color=COLORS["actual"], lw=1.6, label="actual")
        if band := interval_columns(one):
            a.fill_between(t, one[band[0]], one[band[1]], color=COLORS["model"], alpha=0.15,
                           label=band[2])
        for m in ("naive", "seasonal_naive", "model"):
            a.plot(t, one[m], color=COLORS[m], lw=1.1, ls="-" if m == "model" else "--",
                   label=LABELS[m])
        a.set_title(f"{sid}: one step ahead", fontsize=9)
        a.tick_params(labelsize=7)
        a.grid(alpha=0.3)
        if i == 0:
            a.legend(fontsize=7)
    for j in range(len(series), rows * cols):
        ax[j // cols, j % cols].set_visible(False)
    return to_png(fig)


def _date_ticks(ax, times: pd.Series, n: int = 5) -> None:
    """About `n` x ticks at positions 0..len-1, labelled with their dates."""
    if len(times) == 0:
        return
    pos = np.unique(np.linspace(0, len(times) - 1, min(n, len(times))).round().astype(int))
    fmt = "%Y-%m-%d %H:%M" if (times.dt.hour + times.dt.minute).any() else "%Y-%m-%d"
    ax.set_xticks(pos, [times.iloc[p].strftime(fmt) for p in pos])


def horizon_errors(per_horizon: dict[str, list[dict | None]], measure: str = "mase") -> str | None:
    """One line per method: the error measure at each horizon step."""
    if not per_horizon or not per_horizon.get("model"):
        return None
    if all((s or {}).get(measure) is None for s in per_horizon["model"]):
        measure = "mae"
    fig, ax = _figure(width=7.5)
    a = ax[0, 0]
    for m, steps in per_horizon.items():
        y = np.array([np.nan if not s or s.get(measure) is None else s[measure] for s in steps])
        a.plot(np.arange(1, len(y) + 1), y, color=COLORS.get(m), marker="o", ms=3,
               label=LABELS.get(m, m))
    from matplotlib.ticker import MaxNLocator

    a.xaxis.set_major_locator(MaxNLocator(integer=True))
    a.set(xlabel="horizon step", ylabel=measure.upper(), title=f"{measure.upper()} by horizon step "
          "(test points, all series)")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    return to_png(fig)


def interval_columns(frame: pd.DataFrame) -> tuple[str, str, str] | None:
    """(lower, upper, label) of the band to draw: the narrowest calibrated level, else the
    network's own quantile band (quantile loss), else None."""
    levels = sorted((c.removeprefix("lower_") for c in frame.columns
                     if c.startswith("lower_")), key=float)
    if levels:
        return f"lower_{levels[0]}", f"upper_{levels[0]}", f"{levels[0]}% interval"
    return ("lower", "upper", "model interval") if "lower" in frame else None


def origin_paths(frame: pd.DataFrame | None, series_id: str | None = None, n: int = 4
                 ) -> str | None:
    """For a few test origins of one series (`series_id`, else the first): the actuals before
    and after the origin, the model's forecast path, naive (the last value carried forward) and
    seasonal naive; a faint line shows the model's one-step forecasts before the origin, where
    a copy of the last value shows as the actuals shifted one step right."""
    if frame is None or frame.empty:
        return None
    sid = series_id if series_id in set(frame["series_id"]) else frame["series_id"].iloc[0]
    one = frame[frame["series_id"] == sid]
    horizon = int(one["step"].max())
    first = one[one["step"] == 1].sort_values("origin").reset_index(drop=True)  # [N] origins
    context = min(max(2 * horizon, 24), len(first) // 2)
    picks = np.unique(np.linspace(context, len(first) - 1, n).round().astype(int))
    if len(first) < 2 or not len(picks):
        return None
    rows = -(-len(picks) // 2)
    fig, ax = _figure(rows, 2 if len(picks) > 1 else 1, width=11, height=2.6)
    for i, p in enumerate(picks):
        a = ax.flat[i]
        before = first.iloc[p - context: p]  # targets at origin-context+1 .. origin
        path = one[one["origin"] == first["origin"].iloc[p]].sort_values("step")
        back = np.arange(-context + 1, 1)
        steps = path["step"].to_numpy()
        a.plot(np.r_[back, steps], np.r_[before["actual"], path["actual"]],
               color=COLORS["actual"], lw=1.6, label="actual")
        a.plot(back, before["model"], color=COLORS["model"], lw=0.9, alpha=0.4,
               label="model, one step ahead")
        start = path["naive"].iloc[0]  # the last observed level, where every forecast starts
        for m in ("naive", "seasonal_naive", "model"):
            a.plot(np.r_[0, steps], np.r_[start, path[m]], color=COLORS[m],
                   lw=1.8 if m == "model" else 1.2, ls="-" if m == "model" else "--",
                   marker="o" if m == "model" and horizon < 8 else None, ms=3, label=LABELS[m])
        if band := interval_columns(path):
            a.fill_between(steps, path[band[0]], path[band[1]], color=COLORS["model"],
                           alpha=0.15, label=band[2])
        a.axvline(0, color="#999", lw=0.8, ls=":")
        t = pd.Timestamp(first["origin"].iloc[p])
        a.set_title(f"{sid}: origin {t:%Y-%m-%d %H:%M}" if t.hour or t.minute else
                    f"{sid}: origin {t:%Y-%m-%d}", fontsize=9)
        if i >= len(picks) - 2:  # the bottom row
            a.set_xlabel("steps from the origin", fontsize=8)
        a.tick_params(labelsize=7)
        a.grid(alpha=0.3)
        if i == 0:
            a.legend(fontsize=7)
    for j in range(len(picks), ax.size):
        ax.flat[j].set_visible(False)
    return to_png(fig)
