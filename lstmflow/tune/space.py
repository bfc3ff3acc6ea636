"""What a trial draws from the `tune.space` ranges and the config it makes (no torch)."""

from __future__ import annotations

from typing import Any

from lstmflow.config import PipelineConfig, with_overrides
from lstmflow.config.tune import LOG_SCALE

# search key -> the config key it sets
KEYS = {
    "learning_rate": "training.learning_rate", "hidden_size": "model.hidden_size",
    "num_layers": "model.num_layers", "dropout": "model.dropout",
    "weight_decay": "training.weight_decay", "batch_size": "training.batch_size",
    "input_size": "forecast.input_size", "target_transform": "preprocess.target_transform",
}
INTS = ("hidden_size", "num_layers", "batch_size", "input_size")


def transforms(cfg: PipelineConfig) -> list[str]:
    """The target transforms searched: `tune.space.target_transform`, or when empty the
    config's own, 'level' and 'diff'."""
    return list(cfg.tune.space.target_transform) or list(
        dict.fromkeys((cfg.preprocess.target_transform, "level", "diff")))


def input_range(cfg: PipelineConfig) -> tuple[int, int]:
    """The input_size range: `tune.space.input_size`, or half to twice the config's window
    (never below an explicit model.segment_len: a window holds at least one segment)."""
    own = cfg.forecast.input_size
    low = max(2, own // 2, cfg.model.segment_len or 1)
    return cfg.tune.space.input_size or (low, min(5000, 2 * own))


def bounds(cfg: PipelineConfig, name: str) -> tuple:
    """[low, high] of a numeric search key."""
    return input_range(cfg) if name == "input_size" else getattr(cfg.tune.space, name)


def suggest(trial: Any, cfg: PipelineConfig) -> dict[str, Any]:
    """Draw one value per searched key (an optuna Trial); fixed ranges are not searched."""
    params: dict[str, Any] = {}
    for name in KEYS:
        if name == "target_transform":
            choices = transforms(cfg)
            if len(choices) > 1:
                params[name] = trial.suggest_categorical(name, choices)
            continue
        low, high = bounds(cfg, name)
        if low == high:
            continue
        log = name in LOG_SCALE and low > 0
        if name in INTS:
            params[name] = trial.suggest_int(name, int(low), int(high), log=log)
        else:
            params[name] = trial.suggest_float(name, float(low), float(high), log=log)
    return params


def fixed(cfg: PipelineConfig) -> dict[str, Any]:
    """The keys whose range is one value: every trial uses it."""
    out: dict[str, Any] = {}
    for name in KEYS:
        if name == "target_transform":
            if len(transforms(cfg)) == 1:
                out[name] = transforms(cfg)[0]
        elif (r := bounds(cfg, name))[0] == r[1]:
            out[name] = r[0]
    return out


def start_params(cfg: PipelineConfig) -> dict[str, Any]:
    """The first trial: the smallest model (low end of hidden_size, num_layers, dropout), the
    config's own learning rate, weight decay, batch, window and transform where they lie in
    range (else the range's geometric or plain middle). Start small, grow where it pays."""
    own = {"learning_rate": cfg.training.learning_rate, "weight_decay": cfg.training.weight_decay,
           "batch_size": cfg.training.batch_size, "input_size": cfg.forecast.input_size}
    out: dict[str, Any] = {}
    for name in KEYS:
        if name == "target_transform":
            t = transforms(cfg)
            out[name] = cfg.preprocess.target_transform if cfg.preprocess.target_transform in t \
                else t[0]
            continue
        low, high = bounds(cfg, name)
        if name in ("hidden_size", "num_layers", "dropout"):
            value = low
        elif isinstance(own.get(name), int | float) and low <= own[name] <= high:
            value = own[name]
        elif name in LOG_SCALE and low > 0:
            value = (low * high) ** 0.5
        else:
            value = (low + high) / 2
        out[name] = round(value) if name in INTS else float(value)
    return {k: v for k, v in out.items() if k not in fixed(cfg)}


def overrides(params: dict[str, Any]) -> list[str]:
    """`--set` items of a trial's params (search keys -> config keys)."""
    return [f"{KEYS[k]}={v}" for k, v in params.items()]


def trial_config(cfg: PipelineConfig, params: dict[str, Any]) -> PipelineConfig:
    """The config a trial fits: `cfg` with the fixed keys and the trial's params set."""
    return with_overrides(cfg, overrides({**fixed(cfg), **params}))


def capped(cfg: PipelineConfig, torch_threads: int) -> PipelineConfig:
    """The per-trial budget: training.max_steps (not an epoch budget) and max_time_minutes
    capped by `tune`, and the torch threads of this worker."""
    t, tune = cfg.training, cfg.tune
    steps = t.max_steps if tune.max_steps is None or t.max_epochs is not None else min(
        t.max_steps or tune.max_steps, tune.max_steps)  # an epoch budget keeps its epochs
    sets = [f"training.max_time_minutes={min(t.max_time_minutes, tune.max_time_minutes)}",
            f"runtime.torch_threads={torch_threads}"]
    if steps is not None:
        sets.append(f"training.max_steps={steps}")
        if t.min_steps is not None and t.min_steps > steps:
            sets.append(f"training.min_steps={steps}")
    return with_overrides(cfg, sets)
