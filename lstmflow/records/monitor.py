"""monitor.json (`lstmflow monitor`): the served forecasts scored as their actuals arrived."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lstmflow.records.base import Record


class VersionLive(Record):
    """One served version's live figures."""

    points: int
    predictions: int
    rel_mae: float | None = None  # live MAE over naive's, geometric mean over series
    rel_mae_vs_seasonal_naive: float | None = None


class MonitorRecord(Record):
    """What monitoring found: the champion's live error next to its error at promotion, every
    served version's, and whether the champion is degraded."""

    status: str
    name: str
    checked_at: str
    data_fingerprint: str | None = None
    champion: str | None = None
    predictions_read: int = 0
    points: int = 0
    live: dict[str, Any] = Field(default_factory=dict)  # the champion's: overall, per series, ...
    at_promotion: dict[str, Any] = Field(default_factory=dict)  # its test figures then
    versions: dict[str, VersionLive] = Field(default_factory=dict)
    degraded: bool = False
    degraded_reason: str | None = None
    event: str | None = None  # the id of the lstmflow.champion.degraded event emitted, if any
    warnings: list[str] = Field(default_factory=list)
    reason: str | None = None
