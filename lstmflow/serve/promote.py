"""Promotion: a new model replaces the champion only if it beats the baselines and the champion.

The champion is re-scored on the current test points (its own saved config and fitted state),
so the comparison is on the same data, not on numbers measured on an older test window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig, build_config
from lstmflow.data.split import Bounds
from lstmflow.fit.evaluate import beats_baselines, evaluate, relative_mae
from lstmflow.serve.registry import champion, load_version, version_dir


def score_champion(
    root: Path, frame: pd.DataFrame, bounds: dict[str, Bounds], cfg: PipelineConfig
) -> dict[str, Any] | None:
    """The champion's test metrics on today's data, or a dict with 'error' when it cannot be scored."""
    from lstmflow.data.prepare import prepare
    from lstmflow.fit.train import predict_origins

    pointer = champion(root)
    if pointer is None:
        return None
    try:
        model, state, raw_cfg, _ = load_version(version_dir(root, pointer["version"]))
        ccfg = build_config(raw_cfg)
        if ccfg.forecast.horizon != cfg.forecast.horizon:
            return {"version": pointer["version"], "error": "champion has another horizon"}
        known = frame[frame["series_id"].astype(str).isin(state["scalers"])]
        prepared = prepare(known, {s: b for s, b in bounds.items() if s in state["scalers"]},
                           ccfg, state=state)
        stack, ends, zhat = predict_origins(model, prepared.arrays, ccfg, "test")
        metrics = evaluate(prepared.arrays, stack, ends, zhat, state, ccfg.forecast.horizon,
                           cfg.evaluation.season)
    except Exception as exc:
        return {"version": pointer.get("version"), "error": f"{type(exc).__name__}: {exc}"}
    return {"version": pointer["version"], "metrics": metrics}


def decide(policy: str, metrics: dict[str, Any], champ: dict[str, Any] | None) -> tuple[bool, str]:
    """Whether to promote, and the reason in plain words."""
    if policy == "never":
        return False, "registry.promote is 'never'"
    if policy == "always":
        return True, "registry.promote is 'always'"
    o = metrics.get("overall") or {}
    if not beats_baselines(metrics):
        if not o:
            return False, "no test point could be scored"
        return False, f"model does not beat the baselines: {_versus(metrics)}"
    if champ is None:
        return True, f"beats both baselines ({_versus(metrics)}); no champion yet"
    if "error" in champ:
        return True, f"beats both baselines; champion {champ['version']} not comparable ({champ['error']})"
    common = sorted(set(champ["metrics"]["per_series"]) & set(metrics["per_series"]))
    if not common:
        return True, "beats both baselines; champion shares no series with this data"
    both = {s: {"new": metrics["per_series"][s]["model"],
                "champion": champ["metrics"]["per_series"][s]["model"]} for s in common}
    rel = relative_mae(both, "new", "champion")
    if rel is not None and rel < 1:
        return True, f"beats both baselines and champion {champ['version']} (MAE ratio {rel:.4f})"
    shown = "n/a" if rel is None else f"{rel:.4f}"
    return False, f"does not beat champion {champ['version']} (MAE ratio new/champion {shown} >= 1)"


def _versus(metrics: dict[str, Any]) -> str:
    """'MAE ratio vs naive x, vs seasonal naive y' (geometric mean over series)."""
    per = metrics["per_series"]
    parts = []
    for ref, name in (("naive", "naive"), ("seasonal_naive", "seasonal naive")):
        r = relative_mae(per, "model", ref)
        parts.append(f"vs {name} {'n/a' if r is None else f'{r:.4f}'}")
    return "MAE ratio " + ", ".join(parts)
