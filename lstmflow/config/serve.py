"""Config sections `evaluation` (held-out tail, baselines) and `registry` (promotion)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lstmflow.config.base import _Section

# Two fits of one config that differ only in the seed land up to ~8% apart (p90 of the MAE ratio
# on real series, bench/seed_spread.py; README "Promotion"): a smaller margin promotes noise.
MIN_IMPROVEMENT = 0.10


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
        description="'if_better': only when both data-quality gates passed, the diagnosis found "
        "no error, and the model beats both baselines and the champion by min_improvement. "
        "'always': every model the diagnosis does not block (bootstrapping, tests). 'never': "
        "keep versions as candidates for `lstmflow registry promote`.",
    )
    min_improvement: float = Field(
        MIN_IMPROVEMENT, ge=0, lt=1,
        description="Relative margin a new model must beat the champion by (re-scored on the "
        "same test points): promoted when its MAE / the champion's MAE (geometric mean over "
        "series) <= 1 - min_improvement; 0 to 0.99. The default 0.1 is above the spread "
        "between two fits of one config that differ only in the seed (p90 8% on real series, "
        "bench/seed_spread.py): with 0.02 a third of such refits were promoted, with 0.1 1%. "
        "A smaller gain can be promoted by hand (lstmflow registry promote).",
    )
    lock: Literal["auto", "file", "prefect"] = Field(
        "auto",
        description="What serialises registry writes (register, promote, rollback). 'file': a "
        "file lock, for the processes of one machine. 'prefect': also a Prefect global "
        "concurrency limit of one slot per registry (created on first use; leased 60 s and "
        "renewed while held) when a Prefect server is configured, for workers on several "
        "machines that share one registry; a dead holder's slot is freed when its lease runs "
        "out, by the server's repossessor service (a server started without its services "
        "keeps it until the limit is reset). 'auto': 'prefect' when output_dir is a URL (a "
        "store several machines share), 'file' for a local folder.",
    )
    skip_unchanged: bool = Field(
        True,
        description="End a run early (Completed, no training) when its data fingerprint and "
        "effective config (all but runtime, notify, registry, output_dir, data.path) equal the "
        "champion's, or with no such champion the newest version's (a retrain would make the "
        "same model); `lstmflow train --force` or the flow's `force` parameter trains anyway.",
    )
