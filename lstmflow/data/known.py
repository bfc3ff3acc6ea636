"""Inputs known ahead (data.known_covariates, the calendar and holidays of the forecast steps):
each row carries the values of its own and the next H rows of its series as (H + 1) x K lead
columns, appended to the model inputs after the regular ones (models/net.py splits them off for
its known head, which reads each step's values beside the step before's and the origin's: what
an increment or a change since the origin depends on).

Nothing of the target is read: a lead column holds only inputs that are known in advance. Rows
whose next H rows are not all there (the end of the training data) get NaN leads, so no window
ends there (models.data.window_ends skips windows with a NaN input); at forecast time the H rows
after the last one come from the file's future rows (`future_rows`) or, for the calendar and
holidays alone, from the grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.data.calendar import time_features
from lstmflow.data.scale import apply_scalers
from lstmflow.data.schema import SERIES, TIME, DataError, stamp


def lead_names(known: list[str], horizon: int) -> list[str]:
    """Names of the lead columns, step-major: `promo@+0, holiday@+0, ..., promo@+H, ...`."""
    return [f"{k}@+{h}" for h in range(horizon + 1) for k in known]


def future_values(future: pd.DataFrame, cfg: PipelineConfig, state: dict) -> np.ndarray:
    """[M, K] the known inputs of the future rows, scaled with the fitted state's scalers (the
    covariates) or computed from their timestamps (calendar, holiday)."""
    covs = [c for c in state["known"] if c in cfg.data.known_covariates]
    scaled = apply_scalers(future, state["scalers"], covs) if covs else future
    timed = time_features(future[TIME].to_numpy(), cfg.features, state["feature_state"]["calendar"])
    cols = [scaled[c].to_numpy(dtype="float32") if c in covs else timed[c].astype("float32")
            for c in state["known"]]
    return np.stack(cols, axis=1) if cols else np.zeros((len(future), 0), dtype="float32")


def lead_block(frame: pd.DataFrame, known: list[str], horizon: int,
               future: pd.DataFrame | None = None, future_vals: np.ndarray | None = None
               ) -> np.ndarray:
    """[N, (H + 1) * K] float32: for row t of each series, the known inputs of rows t .. t+H of
    that series (the frame's own rows, then its `future` rows with values `future_vals` [M, K]); NaN
    where the series has no such row. The frame is sorted by series then time."""
    n, k = len(frame), len(known)
    vals = frame[known].to_numpy(dtype="float32")  # [N, K]
    codes, uniques = pd.factorize(frame[SERIES].astype(str))
    is_future = np.zeros(n, dtype=bool)
    if future is not None and len(future):
        fcodes = pd.Index(uniques).get_indexer(future[SERIES].astype(str))
        keep = fcodes >= 0  # future rows of series the frame does not hold are not needed
        vals = np.concatenate([vals, future_vals[keep]])
        codes = np.concatenate([codes, fcodes[keep]])
        is_future = np.concatenate([is_future, np.ones(int(keep.sum()), dtype=bool)])
    pos = np.arange(len(vals))  # within each part its rows are in time order
    order = np.lexsort((pos, is_future, codes))  # series, then own rows, then future rows
    ext = vals[order]  # [N + M, K]
    where = np.empty_like(order)
    where[order] = np.arange(len(order))  # row -> its place in ext
    ends = np.searchsorted(codes[order], codes[order], side="right")  # [N + M] block end
    e = where[:n]  # [N]
    idx = e[:, None] + np.arange(horizon + 1)[None, :]  # [N, H + 1]
    ok = idx < ends[e][:, None]
    out = ext[np.minimum(idx, len(ext) - 1)]  # [N, H + 1, K]
    out[~ok] = np.nan
    return np.ascontiguousarray(out.reshape(n, (horizon + 1) * k))


def future_rows(frame: pd.DataFrame, future: pd.DataFrame | None, cfg: PipelineConfig,
                horizon: int) -> pd.DataFrame:
    """The H grid steps after each series' last row with the known covariates' values from the
    file's future rows (`future`); a DataError naming the column and the missing dates when the
    file lacks any of them. Calendar and holidays need no row: they come from the timestamps."""
    covs = list(cfg.data.known_covariates)
    parts = []
    for sid, last in frame.groupby(SERIES, sort=True)[TIME].max().items():
        steps = pd.date_range(last, periods=horizon + 1, freq=cfg.data.freq)[1:]
        parts.append(pd.DataFrame({SERIES: sid, TIME: steps}))
    need = pd.concat(parts, ignore_index=True)
    if not covs:
        return need
    have = (future if future is not None else pd.DataFrame(columns=[SERIES, TIME, *covs]))
    have = have[[SERIES, TIME, *covs]].drop_duplicates([SERIES, TIME])
    rows = need.merge(have, on=[SERIES, TIME], how="left")
    for c in covs:
        gap = rows[rows[c].isna()]
        if len(gap):
            sid = gap[SERIES].iloc[0]
            dates = gap.loc[gap[SERIES] == sid, TIME]
            shown = ", ".join(stamp(t) for t in dates.head(5)) + (", ..." if len(dates) > 5 else "")
            raise DataError(
                f"data file '{cfg.data.path}', column '{c}' (data.known_covariates): no value "
                f"for {len(dates)} of the {horizon} steps after the last observation of series "
                f"'{sid}' ({shown}){_more(gap, sid)}: a known-ahead input needs the next "
                f"{horizon} rows of each series in the file, with '{c}' filled and the target "
                "left empty")
    return rows


def _more(gap: pd.DataFrame, sid: str) -> str:
    """', and N other series' when the gap is in more series than the one named."""
    others = gap[SERIES].nunique() - 1
    return f", and {others} other series" if others else ""
