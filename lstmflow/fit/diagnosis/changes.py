"""The `--set` overrides a remedy proposes, computed from the run's config: values read from it
(or the field's default), clamped to the field's bounds, written as YAML reads them back."""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmflow.config import PipelineConfig

AUTO_LR = 1e-3  # `learning_rate: auto` with no found rate given: the finder's fallback rate


def _field(key: str):
    section, name = key.split(".")
    return PipelineConfig.model_fields[section].annotation.model_fields[name]


def current(cfg: dict[str, Any] | None, key: str) -> Any:
    """The run's value of `section.field`, or the field's default when there is no config."""
    section, name = key.split(".")
    if cfg and name in (cfg.get(section) or {}):
        value = cfg[section][name]
        if value == "auto" and key == "training.learning_rate":
            return AUTO_LR  # the caller did not say which rate the finder chose
        return value
    return _field(key).get_default(call_default_factory=True)


def clamp(key: str, value: Any) -> Any:
    """A number kept within the field's inclusive bounds (ge/le), as the config declares them."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    for m in _field(key).metadata:
        if getattr(m, "ge", None) is not None:
            value = max(value, m.ge)
        if getattr(m, "le", None) is not None:
            value = min(value, m.le)
    return value


def fmt_value(v: Any) -> str:
    """A value as YAML reads it back unchanged: floats positional (YAML reads '1e-05' as text)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return np.format_float_positional(float(f"{v:.3g}"), trim="-")
    return str(v)


class Changes:
    """Collects `key=value` overrides, leaving out the ones that change nothing."""

    def __init__(self, cfg: dict[str, Any] | None) -> None:
        self.cfg, self.items = cfg, []

    def set(self, key: str, value: Any) -> Changes:
        value = clamp(key, value)
        if value != current(self.cfg, key):
            self.items.append(f"{key}={fmt_value(value)}")
        return self

    def scale(self, key: str, factor: float, lo: float, hi: float) -> Changes:
        """Multiply a numeric value, kept within [lo, hi] (an int field stays an int)."""
        old = current(self.cfg, key)
        new = min(hi, max(lo, old * factor))
        return self.set(key, round(new) if isinstance(old, int) else float(new))

    def get(self, key: str) -> Any:
        return current(self.cfg, key)
