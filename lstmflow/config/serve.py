"""Config sections `evaluation` (held-out tail, baselines) and `registry` (promotion)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lstmflow.config.base import _Section


class EvaluationConfig(_Section):
    """How the model is judged: held-out tail of each series against naive baselines."""

    test_size: int = Field(
        60, ge=1, description="Steps at the end of each series held out for the test."
    )
    val_size: int = Field(
        60, ge=1, description="Steps before the test part used for early stopping."
    )
    season: int = Field(
        5, ge=1, description="Lag of the seasonal-naive baseline (e.g. 7 daily, 24 hourly)."
    )


class RegistryConfig(_Section):
    """Where model versions live and when one is promoted to champion."""

    promote: Literal["if_better", "always", "never"] = Field(
        "if_better",
        description="'if_better': only when the model beats both baselines and the champion.",
    )
