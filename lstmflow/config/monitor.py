"""Config section `monitor`: when the served champion counts as degraded (`lstmflow monitor`)."""

from __future__ import annotations

from pydantic import Field

from lstmflow.config.base import _Section


class MonitorConfig(_Section):
    """Scoring the forecasts `predict` served as the actuals arrive."""

    min_points: int = Field(
        50, ge=1, le=10_000_000,
        description="Served points (series x steps whose actual arrived) the champion's live "
        "error needs before it can be called degraded (1..10,000,000).",
    )
    tolerance: float = Field(
        0.2, ge=0, le=100,
        description="Degraded when the champion's live MAE over naive's is worse than at "
        "promotion by more than this share (0.2: 20%), or worse than naive's.",
    )
