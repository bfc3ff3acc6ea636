"""Warm starts from the champion (`training.warm_start`): whether its network fits this run, what
it scores on this run's validation points, and whether a warm fit is kept (plain functions).

A nightly run refits the scalers, imputation and features on its new training part as always;
only the network's weights start from the champion's, and it trains `training.warm_steps` of the
step budget. The comparison is on validation points only (the test part is never read), with
the model alone on both sides (no blend, no intervals): the champion's network under its own
fitted state, the warm fit's under the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from lstmflow.config import PipelineConfig
from lstmflow.core import FitResult, Fitted, Forecaster
from lstmflow.data.prepare import Prepared
from lstmflow.data.split import Bounds
from lstmflow.runs import as_written
from lstmflow.serve.manifest import RegistryError, config_digest
from lstmflow.serve.registry import champion, version_dir
from lstmflow.store.location import StoreError
from lstmflow.store.shared import open_registry
from lstmflow.text import listed

# what a network's shape depends on: a champion that differs in any of them starts nothing warm
SHAPE = ("forecast.horizon", "forecast.input_size", "model.hidden_size", "model.num_layers",
         "model.loss", "model.quantiles", "model.cumulative_target", "model.highway",
         "preprocess.target_transform")


@dataclass(frozen=True)
class Start:
    """How a run's network starts: 'warm' from `fitted` (champion `version`), 'cold', or
    'adopt': the champion was trained from this run's own config changed by `sets` (automatic
    repair's choice); the run takes them and starts warm from it."""

    kind: str
    reason: str
    fitted: Fitted | None = None
    version: str | None = None
    champion_val: float | None = None  # its validation MAE over naive's, model alone
    sets: tuple[str, ...] = ()


def model_inputs(state: dict[str, Any]) -> list[str]:
    """What the network reads, in order: the inputs, then the known-ahead inputs' leads."""
    from lstmflow.data.known import lead_names

    horizon = state.get("lead_steps", 0)
    return [*state["inputs"], *lead_names(state.get("known") or [], horizon)]


def incompatible(old: PipelineConfig, new: PipelineConfig, old_inputs: list[str],
                 new_inputs: list[str]) -> str | None:
    """Why a network fitted under `old` cannot start a fit under `new` (None: it can)."""
    if old_inputs != new_inputs:
        gone, added = set(old_inputs) - set(new_inputs), set(new_inputs) - set(old_inputs)
        what = "; ".join(p for p in (f"without {sorted(gone)}" if gone else "",
                                     f"with {sorted(added)}" if added else "") if p)
        return f"the model inputs differ ({what or 'in their order'})"
    for key in SHAPE:
        section, name = key.split(".")
        a, b = getattr(getattr(old, section), name), getattr(getattr(new, section), name)
        if a != b:
            return f"{key} is {b!r}, the champion's {a!r}"
    if old.segment_len() != new.segment_len():
        return f"model.segment_len resolves to {new.segment_len()}, the champion's " \
               f"{old.segment_len()}"
    return None


def choose_start(cfg: PipelineConfig, prepared: Prepared, frame: pd.DataFrame,
                 bounds: dict[str, Bounds], adopt: bool = True) -> Start:
    """A warm start from the verified champion when `training.warm_start` allows and its
    network fits this run; 'adopt' when it would fit once this run takes the changes repair
    made to this same config (`adopt`: allow that); else a cold start with the reason."""
    if cfg.training.warm_start == "never":
        return Start("cold", "training.warm_start is 'never'")
    try:
        root = open_registry(cfg.output_dir, cfg.name, cfg.storage_options, only_champion=True)
        pointer = champion(root)
        if pointer is None:
            return Start("cold", "no champion to start from")
        fitted, version = Forecaster.load(version_dir(root, pointer["version"]))
    except (RegistryError, StoreError) as exc:
        return Start("cold", f"the champion cannot be loaded ({exc})")
    why = incompatible(fitted.cfg, cfg, model_inputs(fitted.state), model_inputs(prepared.state))
    if why:
        sets = champion_sets(fitted.cfg, cfg)
        if sets and adopt and version.manifest.get("requested_config_sha256") == requested(cfg):
            return Start("adopt", f"champion {pointer['version']} was trained from this same "
                         f"config with {' '.join('--set ' + x for x in sets)} (automatic "
                         "repair's choice): this run trains with them, from its weights",
                         fitted, pointer["version"], sets=tuple(sets))
        hint = (f"; it was trained with {' '.join('--set ' + s for s in sets)} (automatic "
                "repair's choice, or an older config): set them in this config to start warm "
                "from it") if sets else ""
        return Start("cold", f"champion {pointer['version']} does not fit this run: {why}{hint}")
    theirs, ours = set(fitted.state["scalers"]), set(bounds)
    if not theirs & ours:
        return Start("cold", f"champion {pointer['version']} was trained on other series "
                     f"({listed(sorted(theirs))}) than this run's ({listed(sorted(ours))}); a "
                     "file without a series column names its one series after the file: keep "
                     "the file name from run to run, or set data.series_column")
    return Start("warm", f"from champion {pointer['version']}", fitted, pointer["version"],
                 champion_val(cfg, fitted, frame, bounds))


def requested(cfg: PipelineConfig) -> str:
    """The digest a version's manifest keeps of the config its run was asked to train."""
    return config_digest(as_written(cfg))


def champion_sets(old: PipelineConfig, new: PipelineConfig) -> list[str]:
    """The model, features and preprocess keys (and the window) where the champion's config
    differs from this run's, as --set would write them."""
    a, b = old.model_dump(mode="json"), new.model_dump(mode="json")
    out = [f"forecast.input_size={a['forecast']['input_size']}"] if (
        a["forecast"]["input_size"] != b["forecast"]["input_size"]) else []
    for section in ("model", "features", "preprocess"):
        for key, value in a[section].items():
            if b[section].get(key) != value:
                shown = "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else value
                out.append(f"{section}.{key}={shown}")
    return out


def champion_val(cfg: PipelineConfig, fitted: Fitted, frame: pd.DataFrame,
                 bounds: dict[str, Bounds]) -> float | None:
    """The champion network's validation MAE over naive's on this run's validation points,
    under its own fitted state (model alone; None when nothing could be scored)."""
    alone = fitted.alone()
    known = frame[frame["series_id"].astype(str).isin(alone.state["scalers"])]
    prepared = Forecaster.apply(alone, known, {s: b for s, b in bounds.items()
                                               if s in alone.state["scalers"]})
    overall = Forecaster(cfg).evaluate(alone, prepared, split="val").metrics["overall"]
    return overall["model"].get("rel_mae") if overall else None


def warm_val(fit: FitResult) -> float | None:
    """A fit's validation MAE over naive's, model alone (its validation forecasts)."""
    overall = Forecaster(fit.cfg).score(fit.val_forecasts)["overall"]
    return overall["model"].get("rel_mae") if overall else None


def fall_back(start: Start, fit: FitResult, cfg: PipelineConfig) -> str | None:
    """Why `training.warm_start: auto` drops a warm fit for a cold one, or None to keep it:
    no model, a validation diagnosis with an error, or a validation error worse than the
    champion's on the same points by more than `training.warm_tolerance`."""
    if cfg.training.warm_start != "auto" or start.kind != "warm":
        return None
    if not fit.ok:
        return f"the warm fit left no model ({fit.error})"
    val = Forecaster(cfg).score(fit.val_forecasts)
    errors = [f["finding"] for f in Forecaster(cfg).diagnose(fit, val, period="validation")
              .findings if f["severity"] == "error"]
    if errors:
        return f"the warm fit's validation diagnosis found errors ({', '.join(errors)})"
    ours, theirs = warm_val(fit), start.champion_val
    limit = None if theirs is None else theirs * (1 + cfg.training.warm_tolerance)
    if ours is not None and limit is not None and ours > limit:
        return (f"the warm fit's validation MAE over naive's {ours:.4g} is worse than the "
                f"champion's {theirs:.4g} by more than training.warm_tolerance "
                f"({cfg.training.warm_tolerance:g})")
    return None


def describe(start: Start, fit: FitResult | None = None) -> dict[str, Any]:
    """What summary.json's training block says of the start."""
    out: dict[str, Any] = {"start": start.kind, "start_reason": start.reason}
    if start.sets:
        out["adopted"] = list(start.sets)
    if start.kind == "warm":
        out.update(warm_from=start.version, champion_val_rel_mae=start.champion_val,
                   warm_val_rel_mae=warm_val(fit) if fit is not None and fit.ok else None)
    return out
