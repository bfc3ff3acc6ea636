"""Promotion: a model replaces the champion only when it has earned it (TFX's "blessing").

If `registry.promote` is 'if_better', all of: both data-quality gates ran and passed, the
diagnosis found no error, the model beats naive and seasonal naive, and it beats the champion,
re-scored on the same test points with its own saved config and fitted state, by at least
`registry.min_improvement` (relative MAE, geometric mean over the series both know). Otherwise
the version is kept with status 'rejected' and the first rule it broke as the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.data.split import Bounds
from lstmflow.fit.evaluate import beats_baselines, relative_mae
from lstmflow.serve.registry import champion, version_dir


@dataclass(frozen=True)
class Decision:
    promoted: bool
    status: str  # what the version is after registration: champion, candidate or rejected
    reason: str


def score_champion(
    root: Path, frame: pd.DataFrame, bounds: dict[str, Bounds], cfg: PipelineConfig
) -> dict[str, Any] | None:
    """The champion's test metrics on today's data, or a dict with 'error' when it cannot be
    scored (unverifiable files, another horizon, other inputs). Its files are verified first."""
    from lstmflow.core import Forecaster

    pointer = champion(root)
    if pointer is None:
        return None
    try:
        fitted, _ = Forecaster.load(version_dir(root, pointer["version"]))
        if fitted.cfg.forecast.horizon != cfg.forecast.horizon:
            return {"version": pointer["version"], "error": "champion has another horizon"}
        known = frame[frame["series_id"].astype(str).isin(fitted.state["scalers"])]
        prepared = Forecaster.apply(fitted, known, {s: b for s, b in bounds.items()
                                                    if s in fitted.state["scalers"]})
        # the baselines on this run's season: the same yardstick as the challenger's
        metrics = Forecaster(cfg).evaluate(fitted, prepared).metrics
    except Exception as exc:
        return {"version": pointer.get("version"), "error": f"{type(exc).__name__}: {exc}"}
    return {"version": pointer["version"], "metrics": metrics}


def decide(policy: str, metrics: dict[str, Any], champ: dict[str, Any] | None,
           min_improvement: float = 0.0, gates: dict[str, bool | None] | None = None,
           blocked: list[str] | None = None) -> Decision:
    """Whether to promote, the status the version gets, and the reason in plain words.

    `gates`: gate name -> passed (None: did not run); `blocked`: ids of error-level findings.
    """
    if blocked:
        return Decision(False, "rejected", f"the diagnosis found errors ({', '.join(blocked)})")
    if policy == "never":
        return Decision(False, "candidate", "registry.promote is 'never' (promote it by hand: "
                        "lstmflow registry promote)")
    if policy == "always":
        return Decision(True, "champion", "registry.promote is 'always'")
    not_passed = [name for name, ok in (gates or {}).items() if ok is not True]
    if not_passed:
        return Decision(False, "rejected", f"data-quality gate(s) {', '.join(not_passed)} did not "
                        "run or pass (quality.enabled: false?); a model is promoted only after "
                        "both gates passed")
    if not beats_baselines(metrics):
        if not metrics.get("overall"):
            return Decision(False, "rejected", "no test point could be scored")
        return Decision(False, "rejected", f"does not beat the baselines: {_versus(metrics)}")
    if champ is None:
        return Decision(True, "champion", f"beats both baselines ({_versus(metrics)}); no "
                        "champion yet")
    if "error" in champ:
        return Decision(True, "champion", f"beats both baselines ({_versus(metrics)}); champion "
                        f"{champ['version']} not comparable ({champ['error']})")
    common = sorted(set(champ["metrics"]["per_series"]) & set(metrics["per_series"]))
    if not common:
        return Decision(True, "champion", "beats both baselines; champion shares no series "
                        "with this data")
    both = {s: {"new": metrics["per_series"][s]["model"],
                "champion": champ["metrics"]["per_series"][s]["model"]} for s in common}
    return _versus_champion(relative_mae(both, "new", "champion"), champ["version"],
                            min_improvement, metrics)


def _versus_champion(rel: float | None, version: str, margin: float,
                     metrics: dict[str, Any]) -> Decision:
    """The champion rule: new MAE / champion MAE <= 1 - margin."""
    need = 1 - margin
    if rel is None:
        return Decision(False, "rejected", f"cannot compare with champion {version}: no common "
                        "series with a positive MAE")
    ratio = f"MAE ratio new/champion {rel:.4f}, needed <= {need:.4f}"
    if rel <= need:
        return Decision(True, "champion", f"beats both baselines ({_versus(metrics)}) and "
                        f"champion {version} by {1 - rel:.2%} ({ratio})")
    if rel < 1:
        return Decision(False, "rejected", f"better than champion {version} by only "
                        f"{1 - rel:.2%}, less than registry.min_improvement {margin:.2%} ({ratio})")
    return Decision(False, "rejected", f"does not beat champion {version} ({ratio})")


def _versus(metrics: dict[str, Any]) -> str:
    """'MAE ratio vs naive x, vs seasonal naive y' (geometric mean over series)."""
    per = metrics["per_series"]
    parts = []
    for ref, name in (("naive", "naive"), ("seasonal_naive", "seasonal naive")):
        r = relative_mae(per, "model", ref)
        parts.append(f"vs {name} {'n/a' if r is None else f'{r:.4f}'}")
    return "MAE ratio " + ", ".join(parts)
