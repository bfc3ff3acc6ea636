"""Per-series contiguous arrays the model reads, cut from the scaled frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmflow.data.schema import LEVEL, OBSERVED, ORIGIN_OK, SERIES, TIME
from lstmflow.data.split import Bounds


@dataclass
class SeriesArrays:
    """One series ready for the model: contiguous arrays plus its split bounds."""

    series_id: str
    timestamps: np.ndarray  # [T] datetime64
    x: np.ndarray  # [T, F] float32 scaled inputs (NaN where unknown)
    z: np.ndarray  # [T] float32 scaled transformed target (NaN where unobserved)
    level: np.ndarray  # [T] float64 imputed target in original units
    actual: np.ndarray  # [T] float64 observed target in original units (NaN where missing)
    bounds: Bounds
    # [T] bool: a window may end here. False inside a gap filled by linear interpolation, whose
    # values (and features) were computed from the value after the gap: not known at that time.
    origin_ok: np.ndarray | None = None
    n_known: int = 0  # inputs known ahead: x's last (horizon + 1) x n_known columns are their leads


def to_arrays(frame: pd.DataFrame, inputs: list[str], bounds: dict[str, Bounds],
              leads: np.ndarray | None = None, n_known: int = 0) -> list[SeriesArrays]:
    """Split the scaled frame into per-series contiguous arrays; `leads` [N, (H + 1) * n_known] (rows
    as the frame's positions) are appended to the inputs (lstmflow.data.known)."""
    out = []
    for sid, g in frame.groupby(SERIES, sort=True):
        actual = g[LEVEL].where(g[OBSERVED]).to_numpy(dtype="float64")
        x = g[inputs].to_numpy(dtype="float32")  # [T, F]
        if leads is not None:
            x = np.concatenate([x, leads[frame.index.get_indexer(g.index)]], axis=1)
        out.append(
            SeriesArrays(
                series_id=str(sid),
                timestamps=g[TIME].to_numpy(),
                x=np.ascontiguousarray(x),
                z=np.ascontiguousarray(g["_z_target"].to_numpy(dtype="float32")),
                level=g[LEVEL].to_numpy(dtype="float64"),
                actual=actual,
                bounds=bounds[str(sid)],
                origin_ok=g[ORIGIN_OK].to_numpy(dtype=bool) if ORIGIN_OK in g else None,
                n_known=n_known,
            )
        )
    return out
