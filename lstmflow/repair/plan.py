"""Which refit comes next, how much time it may take, and which attempt wins (the rules of
lstmflow.repair.policy, as plain functions over its attempts)."""

from __future__ import annotations

from typing import Any

from lstmflow.config import ConfigError, PipelineConfig, with_overrides
from lstmflow.config.pipeline import parse_override
from lstmflow.repair.candidates import PROBLEMS, Candidate
from lstmflow.repair.extend import LENGTHEN, continues_from
from lstmflow.repair.selection import SCORE, compare

REPAIRABLE = ("model.", "training.", "preprocess.", "features.", "forecast.input_size")
REPREPARE = ("preprocess.", "features.")  # what `prepare` reads: a remedy here re-prepares
RUN_BUDGET = "training.max_time_minutes"  # the run's, shared by all attempts
# The refits' share of time is never below this (see time_left): a fit cut short by its problem
# stops within a second because of the problem itself (b2f3806: bench/repair_cases.py repaired 8
# of 20 induced cases instead of 17 without a floor), a longer window makes every refit step
# dearer (a window of two cycles in place of a quarter of one costs ~8x a step), and a share of a
# sub-second first fit is less than a trainer takes to start (400 weekly gasoline points: 0.6 x
# 0.3 s, no refit ran for three overfitting cases). 5 s is nothing to a scheduled run.
REPAIR_FLOOR_S = 5.0
# problems of the training curves: remedied before the outcome findings they cause (`plan`)
CUT_SHORT = ("divergence", "exploding_gradients", "vanishing_gradients", "underfitting",
             "plateau", "not_converged", "noisy_optimisation")
# a remedy touching any of these changes the network's shape (or its inputs): the refit starts
# from random weights; any other remedy starts from its parent's trained weights
SHAPE = ("model.hidden_size", "model.num_layers", "model.loss", "model.quantiles", "model.highway",
         "model.segment_len", "model.cumulative_target", "forecast.input_size", "training.seed",
         *REPREPARE)
# a remedy for one of these starts from random weights even where it keeps the shape: a noisy
# fit's weights are where the noise left them, and a warm refit at the remedy's batch and rate
# has too few steps to leave them (bench/repair_cases.py: gasoline's batch-1 fit refitted warm
# scored 0.913 against its own 0.912)
COLD_AFTER = ("noisy_optimisation",)
# outcome findings that a random walk explains (no_signal present): no refit beats naive there
DATA_EXPLAINED = ("worse_than_baseline", "flat_forecast", "lagged_copy")


def share_of(attempts: list[Candidate], cfg: PipelineConfig) -> float:
    """The refits' time together: repair_time_factor x the first fit's time, at least
    REPAIR_FLOOR_S; when the first fit broke it says nothing of how long a fit takes: the
    run's budget."""
    t, first = cfg.training, attempts[0]
    if not first.usable:
        return t.max_time_minutes * 60
    return max(t.repair_time_factor * first.secs, REPAIR_FLOOR_S)


def time_left(attempts: list[Candidate], cfg: PipelineConfig) -> float:
    """Seconds the next refit may take: what is left of the run's max_time_minutes, and of the
    refits' share (`share_of`)."""
    left = cfg.training.max_time_minutes * 60 - sum(a.secs for a in attempts)
    if attempts[0].usable:
        left = min(left, share_of(attempts, cfg) - sum(a.secs for a in attempts[1:]))
    return left


def keeps_shape(overrides: dict[str, str], why: str | None = None) -> bool:
    """Whether a remedy (for the finding `why`) may start from its parent's weights: it leaves
    the network's shape and inputs as they were (SHAPE) and is not for a COLD_AFTER finding."""
    return why not in COLD_AFTER and not any(key.startswith(SHAPE) for key in overrides)


def applicable(overrides: list[str]) -> dict[str, str] | None:
    """A remedy as {key: value} a refit can apply, without the time budget; None when it needs a
    change outside a refit or when nothing is left."""
    out = {}
    for item in overrides:
        parts, _ = parse_override(item)
        key = ".".join(parts)
        if key == RUN_BUDGET:
            continue
        if not key.startswith(REPAIRABLE):
            return None
        out[key] = item.split("=", 1)[1]
    return out or None


def triggers(f: dict[str, Any], findings: list[dict[str, Any]]) -> bool:
    """Whether a finding calls for a refit: an error, or a warning the data does not explain
    (a model a little worse than naive on a random walk, see no_signal: no setting helps)."""
    if f["severity"] not in PROBLEMS:
        return False
    walks = any(g["finding"] == "no_signal" for g in findings)
    return f["severity"] == "error" or not (walks and f["finding"] in DATA_EXPLAINED)


def plan(attempts: list[Candidate], cfg: PipelineConfig, left_s: float = float("inf"),
         invalid: dict[str, str] | None = None) -> tuple[Candidate, dict[str, str], str] | None:
    """(parent, overrides, finding) of the next attempt, or None when every remedy of the
    parent's problems was tried, cannot be applied, or only lengthens a fit that `left_s`
    seconds cannot lengthen (see `replays`). Problems of the training curves (CUT_SHORT) come
    before the outcomes they cause: a blow-up's remedy before that of the model being worse
    than naive. A remedy the config refuses (a window shorter than an explicit
    model.segment_len, say) is skipped and said in `invalid`."""
    chosen = choose(attempts)
    parent = attempts[chosen] if chosen is not None else attempts[-1]
    tried = [_resolved(cfg, a.overrides) for a in attempts]
    for f in sorted(parent.findings, key=lambda g: g["finding"] not in CUT_SHORT):
        remedy = applicable(f["remedy"]["overrides"]) if triggers(f, parent.findings) else None
        if remedy is None or replays(parent, remedy, left_s):
            continue
        overrides = {**parent.overrides, **remedy}
        try:
            resolved = _resolved(cfg, overrides)
        except ConfigError as exc:
            if invalid is not None:
                sets = " ".join(f"--set {k}={v}" for k, v in remedy.items())
                invalid[f"skipped the remedy for {f['finding']} ({sets}): {exc}"] = f["finding"]
            continue
        if resolved not in tried:
            return parent, overrides, f["finding"]
    return None


def replays(parent: Candidate, remedy: dict[str, str], left_s: float) -> bool:
    """Whether a remedy that only lengthens the fit (step budget keys) would be cut before it
    gets 25% past the parent's steps, at the parent's pace: with the same seed it would then
    replay the parent's fit step for step and change nothing. Never when the parent left a
    checkpoint to continue from (lstmflow.repair.extend)."""
    if not set(remedy) <= LENGTHEN or parent.fit is None or not parent.fit.steps_run:
        return False
    if continues_from(parent, {**parent.overrides, **remedy}) is not None:
        return False
    return left_s < 1.25 * parent.secs  # the time of 1.25 x its steps at its pace


def choose(attempts: list[Candidate]) -> int | None:
    """Score every attempt on the validation points all usable ones share; the index of the
    usable one with the lowest score (the earliest of equals), or None."""
    usable = [a for a in attempts if a.usable]
    figures = compare({a.index: a.points for a in attempts}, [a.index for a in usable])
    for a in attempts:
        a.val = figures[a.index]
    ranked = [a for a in usable if a.val[SCORE] is not None]
    return min(ranked, key=lambda a: (a.val[SCORE], a.index)).index if ranked else None


def _resolved(cfg: PipelineConfig, overrides: dict[str, str]) -> dict[str, Any]:
    """The config an override set makes (what 'already tried' compares)."""
    return with_overrides(cfg, [f"{k}={v}" for k, v in overrides.items()]).model_dump(mode="json")
