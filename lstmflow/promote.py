"""Promotion: a new model replaces the champion only if it beats the baselines and the champion.

The champion is re-scored on the current test points (its own saved config and fitted state),
so the comparison is on the same data, not on numbers measured on an older test window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig, build_config
from lstmflow.evaluate import beats_baselines, evaluate, score_key
from lstmflow.preprocess import Bounds
from lstmflow.registry import champion, load_version


def score_champion(
    root: Path, frame: pd.DataFrame, bounds: dict[str, Bounds], cfg: PipelineConfig
) -> dict[str, Any] | None:
    """The champion's test metrics on today's data, or a dict with 'error' when it cannot be scored."""
    from lstmflow.prepare import prepare
    from lstmflow.train import predict_origins

    pointer = champion(root)
    if pointer is None:
        return None
    try:
        model, state, raw_cfg, _ = load_version(Path(pointer["path"]))
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
        k = score_key(o)
        return False, (
            f"model {k.upper()} {o['model'][k]:.4g} does not beat naive {o['naive'][k]:.4g} and "
            f"seasonal naive {o['seasonal_naive'][k]:.4g}"
        )
    if champ is None:
        return True, "beats both baselines; no champion yet"
    if "error" in champ:
        return True, f"beats both baselines; champion {champ['version']} not comparable ({champ['error']})"
    common = sorted(set(champ["metrics"]["per_series"]) & set(metrics["per_series"]))
    if not common:
        return True, "beats both baselines; champion shares no series with this data"
    mine = {s: metrics["per_series"][s]["model"] for s in common}
    theirs = {s: champ["metrics"]["per_series"][s]["model"] for s in common}
    k = score_key(mine | {f"champion-{s}": v for s, v in theirs.items()})
    new = sum(v[k] for v in mine.values()) / len(common)
    old = sum(v[k] for v in theirs.values()) / len(common)
    if new < old:
        return True, (f"beats both baselines and champion {champ['version']} "
                      f"(mean {k.upper()} {new:.4g} < {old:.4g})")
    return False, f"does not beat champion {champ['version']} (mean {k.upper()} {new:.4g} >= {old:.4g})"
