"""Check that init's sizes leave forecast origins to score, and widen the split when not
(plain functions, no Prefect).

A series whose last rows hold a long gap can leave no usable origin in the test part: after a
gap left open, the first origin needs the feature warm-up plus input_size known rows. The
origins are counted by the run's own path (drop short series > split > prepare > window_ends),
so the count is the one training and evaluation will see. Only where values are present or
missing decides (never the values): nothing is tuned on the test period.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import build_config
from lstmflow.data.features import warmup_steps
from lstmflow.data.schema import DataError


def scored_origins(frame: pd.DataFrame, raw: dict[str, Any]) -> dict[str, int]:
    """Origins of the validation and test parts with at least one observed target in their
    horizon (the ones evaluation scores), summed over the series a run keeps."""
    from lstmflow.data.ingest import drop_short_series
    from lstmflow.data.prepare import prepare
    from lstmflow.data.split import split_bounds
    from models.data import StackedSeries, window_ends

    cfg = build_config(raw)
    frame, _ = drop_short_series(frame, cfg.min_history(), cfg.data.short_series, cfg.data.path)
    bounds = split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size)
    arrays = prepare(frame, bounds, cfg).arrays
    stack = StackedSeries(arrays, cfg.forecast.horizon)
    out = {}
    for split in ("val", "test"):
        ends = window_ends(stack, arrays, split, cfg.forecast.input_size)  # [W] every origin
        out[split] = int(np.isfinite(stack.future[ends].numpy()).any(axis=1).sum())
    return out


def _candidates(n: int, hold: int, input_size: int, horizon: int, season: int, warm: int,
                min_train: int) -> Iterator[tuple[int, int]]:
    """(input_size, hold) to try, in order: the chosen window with validation and test grown
    by one horizon at a time, then each shorter window (down to max(2 x season, 2 x horizon))
    likewise; only while the training part keeps input_size + horizon + warm-up + min_train rows."""
    floor = min(input_size, max(2 * season, 2 * horizon))
    step = max(1, horizon)
    sizes = list(range(input_size, floor - 1, -step))
    if sizes[-1] != floor:
        sizes.append(floor)
    for size in sizes:
        h = hold
        while n - 2 * h >= size + horizon + warm + min_train:
            yield size, h
            h += step


def fit_split(frame: pd.DataFrame, raw: dict[str, Any], lengths: list[int], min_train: int
              ) -> tuple[dict[str, Any], str | None, str | None]:
    """The sizes in `raw` if validation and test each have at least `horizon` scored origins;
    else the first candidate (see _candidates) that has. Returns (raw, note, undecided)."""
    fc, ev = raw["forecast"], raw["evaluation"]
    horizon, input_size, hold = fc["horizon"], fc["input_size"], ev["test_size"]
    need = max(1, horizon)
    counts = scored_origins(frame, raw)
    if min(counts.values()) >= need:
        return raw, None, None
    rule = (f"validation and test need at least {need} forecast origins each (one horizon) "
            "whose horizon holds an observed target")
    found = f"with input_size {input_size} and {hold} rows each they have {counts['val']} and " \
            f"{counts['test']} (the rows after a gap left open wait for the warm-up and " \
            "input_size known rows)"
    n = int(np.median(lengths))
    warm = warmup_steps(build_config(raw).features)
    for size, h in _candidates(n, hold, input_size, horizon, ev.get("season", 1), warm, min_train):
        if (size, h) == (input_size, hold):
            continue
        trial = {**raw, "forecast": {**fc, "input_size": size},
                 "evaluation": {**ev, "val_size": h, "test_size": h}}
        try:
            got = scored_origins(frame, trial)
        except DataError:  # e.g. every series too short for these sizes
            continue
        if min(got.values()) >= need:
            what = []
            if h != hold:
                what.append(f"validation and test {hold} -> {h} rows each")
            if size != input_size:
                what.append(f"input_size {input_size} -> {size}")
            note = (f"split widened ({'; '.join(what)}): {rule}; {found}; now {got['val']} "
                    f"and {got['test']} (counted from where data is present, not its values)")
            return trial, note, None
    undecided = (f"{rule}; {found}, and no larger validation/test part (keeping the training "
                 f"part at least input_size + horizon + {warm} warm-up + {min_train} rows) nor a "
                 "shorter input_size makes enough: the file's last rows have a gap too long to "
                 "evaluate on. The run will train but score no or few test points; fill or "
                 "remove the gap, end the file before it, or raise preprocess.max_gap so that "
                 "it is imputed")
    return raw, None, undecided
