"""Check that init's sizes leave forecast origins to score, and widen the split when not
(plain functions, no Prefect).

A series whose last rows hold a long gap can leave no usable origin in the test part: after a
gap left open, the first origin needs the feature warm-up plus input_size known rows. The
origins are counted by the run's own path (drop short series > split > prepare > window_ends),
so the count is the one training and evaluation will see. Only where values are present or
missing decides (never the values): nothing is tuned on the test period.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from lstmflow.config import build_config
from lstmflow.data.features import warmup_steps
from lstmflow.data.schema import DataError

MAX_TRIES = 20  # validation/test sizes tried at most (one prepare each)


SHORTER = (384, 256, 192, 128, 96, 64, 48, 32, 24, 16, 12, 8)  # input sizes fit_window tries


def _windows(frame: pd.DataFrame, raw: dict[str, Any], sizes: list[int],
             splits: tuple[str, ...] = ("train", "val", "test")) -> dict[int, dict[str, int]]:
    """Per input_size in `sizes` and split in `splits`: training origins, and validation and
    test origins with at least one observed target in their horizon (the points evaluation
    scores), summed over the series a run with that input_size keeps. One prepare serves every
    size (it does not read it)."""
    from lstmflow.data.ingest import drop_short_series
    from lstmflow.data.prepare import prepare
    from lstmflow.data.split import split_bounds
    from models.data import StackedSeries, window_ends

    cfgs = {s: build_config({**raw, "forecast": {**raw["forecast"], "input_size": s}})
            for s in sizes}
    cfg = cfgs[min(sizes)]  # keeps every series a longer window keeps
    frame, _ = drop_short_series(frame, cfg.min_history(), cfg.data.short_series, cfg.data.path)
    bounds = split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size)
    arrays = prepare(frame, bounds, cfg).arrays
    stack = StackedSeries(arrays, cfg.forecast.horizon)
    rows = np.array([len(a.z) for a in arrays])  # [S]
    out: dict[int, dict[str, int]] = {}
    for size, c in cfgs.items():
        out[size] = {}
        for split in splits:
            ends = window_ends(stack, arrays, split, size)  # [W] every usable origin
            series = np.searchsorted(stack.offsets, ends, side="right") - 1  # [W]
            kept = rows[series] >= c.min_history()  # the series a run with this size keeps
            if split != "train":
                kept &= np.isfinite(stack.future[ends].numpy()).any(axis=1)  # [W] scored
            out[size][split] = int(kept.sum())
    return out


def scored_origins(frame: pd.DataFrame, raw: dict[str, Any], sizes: list[int]
                   ) -> dict[int, dict[str, int]]:
    """Per input_size in `sizes`: the scored origins of the validation and test parts."""
    return _windows(frame, raw, sizes, ("val", "test"))


def fit_window(frame: pd.DataFrame, raw: dict[str, Any], min_train: int
               ) -> tuple[dict[str, Any], str | None, str | None]:
    """The input_size in `raw` if at least `min_train` training windows fit between the gaps a
    run leaves open (longer than preprocess.max_gap; a window needs input_size known, warm rows),
    else the longest of SHORTER that gives them. Data recorded in stretches (business hours: a
    5-minute series from 07:00 to 21:00) fits no window longer than a stretch. Returns (raw,
    note, undecided)."""
    size = raw["forecast"]["input_size"]
    sizes = [size, *(s for s in SHORTER if s < size)]
    try:
        counts = _windows(frame, raw, sizes)
    except DataError:  # every series too short even for the smallest window: said elsewhere
        return raw, None, None
    if counts[size]["train"] >= min_train:
        return raw, None, None
    fits = [s for s in sizes if counts[s]["train"] >= min_train]
    found = (f"with input_size {size} {counts[size]['train']} training windows fit in the "
             "data (a window needs input_size rows known and past the feature warm-up, which "
             "restarts after each gap longer than preprocess.max_gap)")
    if not fits:
        return raw, None, (
            f"{found}, and no input_size down to {sizes[-1]} gives {min_train}: the data's "
            "stretches between gaps are too short. Raise preprocess.max_gap so that the gaps "
            "are imputed, or resample the file to a coarser step")
    note = (f"input_size {size} -> {fits[0]}: {found}; {counts[fits[0]]['train']} with "
            f"{fits[0]} (counted from where data is present, never from its values)")
    return {**raw, "forecast": {**raw["forecast"], "input_size": fits[0]}}, note, None


def _window_sizes(input_size: int, horizon: int, season: int) -> list[int]:
    """The chosen input_size, then shorter ones a horizon apart down to max(2 x season,
    2 x horizon) (or the chosen size when that is already shorter)."""
    floor = min(input_size, max(2 * season, 2 * horizon))
    sizes = list(range(input_size, floor - 1, -max(1, horizon)))
    return sizes if sizes[-1] == floor else [*sizes, floor]


def fit_split(frame: pd.DataFrame, raw: dict[str, Any], lengths: list[int], min_train: int
              ) -> tuple[dict[str, Any], str | None, str | None]:
    """The sizes in `raw` if validation and test each have at least `horizon` scored origins.
    Else validation and test (kept equal) grow a horizon at a time (coarser when that would
    take over MAX_TRIES steps) while the median series' training part keeps input_size +
    horizon + warm-up + `min_train` rows; the chosen input_size at its smallest such size
    wins, else the longest shorter window that works. Returns (raw, note, undecided)."""
    fc, ev = raw["forecast"], raw["evaluation"]
    horizon, input_size, hold = fc["horizon"], fc["input_size"], ev["test_size"]
    need = max(1, horizon)
    counts = scored_origins(frame, raw, [input_size])[input_size]
    if min(counts.values()) >= need:
        return raw, None, None
    rule = (f"validation and test need at least {need} forecast origins each (one horizon) "
            "whose horizon holds an observed target")
    found = (f"with input_size {input_size} and {hold} rows each they have {counts['val']} and "
             f"{counts['test']} (after a gap left open, an origin waits for the warm-up and "
             "input_size known rows)")
    sizes = _window_sizes(input_size, horizon, ev.get("season", 1))
    n, warm = int(np.median(lengths)), warmup_steps(build_config(raw).features)
    room = n - min(sizes) - horizon - warm - min_train  # rows validation + test may take
    step = max(1, horizon, math.ceil((room // 2 - hold) / MAX_TRIES))
    found_at: dict[int, tuple[int, dict[str, int]]] = {}  # input_size -> (hold, counts)
    starved = -1  # most training windows a split that scored enough left, when under min_train
    for h in range(hold, room // 2 + 1, step):
        fits = [s for s in sizes if n - 2 * h >= s + horizon + warm + min_train]
        if not fits:  # the training part would be too short for every window
            break
        trial = {**raw, "evaluation": {**ev, "val_size": h, "test_size": h}}
        try:
            got = _windows(frame, trial, fits)
        except DataError:  # e.g. every series too short for these sizes
            continue
        for s in fits:
            scored = min(got[s]["val"], got[s]["test"]) >= need
            if s not in found_at and scored and got[s]["train"] >= min_train:
                found_at[s] = (h, got[s])
            elif scored:  # the gaps leave too few training windows before the wider split
                starved = max(starved, got[s]["train"])
        if input_size in found_at:
            break
    if not found_at:
        starving = (f" (the wider parts that do leave at most {starved} training windows "
                    f"between the gaps, under {min_train})" if starved >= 0 else "")
        return raw, None, (
            f"{rule}; {found}, and no larger validation/test part (the training part keeping "
            f"input_size + horizon + {warm} warm-up rows and {min_train} training windows) nor a "
            f"shorter input_size (down to {sizes[-1]}) gives enough{starving}: the file's last "
            "rows have a gap too long to evaluate on. The run would train but score no or few "
            "test points; fill or remove the gap, end the file before it, or raise "
            "preprocess.max_gap so that it is imputed")
    size = max(found_at)
    h, got = found_at[size]
    what = ([f"validation and test {hold} -> {h} rows each"] if h != hold else []) + \
        ([f"input_size {input_size} -> {size}"] if size != input_size else [])
    note = (f"split widened ({'; '.join(what)}): {rule}; {found}; now {got['val']} and "
            f"{got['test']}, with {got['train']} training windows (counted from where data is "
            "present, never from its values)")
    return ({**raw, "forecast": {**fc, "input_size": size},
             "evaluation": {**ev, "val_size": h, "test_size": h}}, note, None)
