"""miscalibrated: a calibrated interval whose test coverage misses its nominal level by more
than sampling explains (reads the evaluation's `calibration` block, never the config)."""

from __future__ import annotations

import math

from lstmflow.fit.diagnosis import thresholds as T
from lstmflow.fit.diagnosis.curves import finding
from lstmflow.fit.diagnosis.record import Finding, Run, pct


def tolerance(nominal: float, origins: float) -> float:
    """COVERAGE_Z binomial standard errors of a coverage share over `origins` independent
    draws."""
    return T.COVERAGE_Z * math.sqrt(nominal * (1 - nominal) / max(origins, 1.0))


def independent(points: int, steps: int) -> float:
    """Forecast paths that share no target: points / steps origins, and origins closer than
    `steps` forecast the same rows (an origin's path overlaps its neighbours' by (H - d) / H
    at distance d, which sums to H), so points / steps^2 of them are independent."""
    return points / steps / steps


def misses(run: Run) -> list[tuple[str, float, float, int, float, float]]:
    """(level name, nominal, coverage, points, tolerance, independent paths) of every interval
    outside its tolerance on the scored period."""
    levels = ((run.metrics or {}).get("calibration") or {}).get("levels") or {}
    out = []
    for name, v in levels.items():
        paths = independent(v["points"], max(1, len(v.get("per_horizon") or [None])))
        tol = tolerance(v["nominal"], paths)
        if abs(v["coverage"] - v["nominal"]) > tol:
            out.append((name, v["nominal"], v["coverage"], v["points"], tol, paths))
    return out


def miscalibrated(run: Run) -> Finding | None:
    """The intervals said one coverage and held another on the test period: a warning when one
    held less (it understates the risk), info when they only held more (safe, only wider)."""
    missed = misses(run)
    if not missed:
        return None
    narrow = any(cov < nominal for _, nominal, cov, *_ in missed)
    parts = [f"the {name}% interval held {pct(cov)} of {n} {run.period} points "
             f"({'too narrow' if cov < nominal else 'too wide'}; nominal {pct(nominal)} "
             f"+- {pct(tol)} for ~{max(1, round(paths))} independent forecast paths)"
             for name, nominal, cov, n, tol, paths in missed]
    return finding("miscalibrated", "warning" if narrow else "info", "; ".join(parts), run)
