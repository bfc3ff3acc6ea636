"""Config section `tune`: what `lstmflow tune` searches (ranges), for how long, and how it
prunes. The ranges start from small models: the first trial is the low end of every capacity
range, and the search grows from there only where the validation error says so."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from lstmflow.config.base import _Section

Transform = Literal["level", "diff", "log_return"]


def _range(kind: type, lo: float, hi: float, what: str, log: bool = False, lo_open: bool = False):
    """A [low, high] pair field within (lo, hi); low == high fixes the value."""
    bound = Field(gt=lo) if lo_open else Field(ge=lo)
    return Annotated[
        tuple[Annotated[kind, bound, Field(le=hi)], Annotated[kind, bound, Field(le=hi)]],
        Field(description=f"[low, high] of {what}{' (searched on a log scale)' if log else ''}; "
                          "low = high fixes it."),
    ]


# Searched on a log scale: spans of orders of magnitude (weight_decay only when its low > 0).
RANGES = ("learning_rate", "hidden_size", "num_layers", "dropout", "weight_decay", "batch_size",
          "input_size")
LOG_SCALE = ("learning_rate", "hidden_size", "batch_size", "weight_decay")
LearningRate = _range(float, 0, 1, "training.learning_rate", log=True, lo_open=True)
HiddenSize = _range(int, 1, 4096, "model.hidden_size", log=True)
NumLayers = _range(int, 1, 8, "model.num_layers")
Dropout = _range(float, 0, 0.9, "model.dropout")
WeightDecay = _range(float, 0, 1, "training.weight_decay (log scale when low > 0)")
BatchSize = _range(int, 1, 65536, "training.batch_size", log=True)
InputSize = _range(int, 2, 5000, "forecast.input_size")


class SearchSpace(_Section):
    """The ranges every trial draws from (Optuna's TPE sampler); one key per searched field."""

    learning_rate: LearningRate = (3e-4, 3e-2)
    hidden_size: HiddenSize = (8, 64)
    num_layers: NumLayers = (1, 2)
    dropout: Dropout = (0.0, 0.3)
    weight_decay: WeightDecay = (1e-6, 1e-2)
    batch_size: BatchSize = (16, 128)
    input_size: InputSize | None = Field(
        None, description="[low, high] of forecast.input_size; a series needs the high end's "
        "rows (it decides which series are kept); empty: half to twice the config's own "
        "window (it knows the data's cycle: short windows miss it, long ones cost steps).")
    target_transform: list[Transform] = Field(
        [], max_length=3,
        description="preprocess.target_transform choices; one entry fixes it; empty: the "
        "config's own transform, 'level' and 'diff' ('log_return' needs positive series).",
    )

    @field_validator(*RANGES, mode="before")
    @classmethod
    def _pair(cls, v: object) -> object:
        if v is not None and (not isinstance(v, list | tuple) or len(v) != 2):
            raise ValueError(f"must be a [low, high] pair, got {v!r}")
        return v

    @field_validator(*RANGES)
    @classmethod
    def _ordered(cls, v: tuple | None) -> tuple | None:
        if v is not None and v[0] > v[1]:
            raise ValueError(f"low {v[0]} is above high {v[1]}")
        return v

    @model_validator(mode="after")
    def _check(self) -> SearchSpace:
        if len(set(self.target_transform)) != len(self.target_transform):
            raise ValueError(f"tune.space.target_transform repeats a value: {self.target_transform}")
        return self


class TuneConfig(_Section):
    """`lstmflow tune`: an Optuna study over `space`, pruned by the median rule and by the
    diagnosis of each trial's curves; stored in SQLite so a rerun continues it."""

    study: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]{1,80}$",
        description="Study name: the SQLite file <output_dir>/tune/<study>.db keeps its trials "
        "and a rerun with the same name continues it; empty: the config's `name`.",
    )
    storage: str | None = Field(
        None, pattern=r"^(sqlite|postgresql\+psycopg)://\S+$",
        description="Where the study lives: an SQLAlchemy URL, e.g. postgresql+psycopg://user@"
        "host:5432/db (pip install lstmflow[postgres]), so Dask workers on other machines share "
        "one study without a shared disk. No password in the URL (configs are kept in run "
        "records, deployments and trackers): each machine's PGPASSWORD or ~/.pgpass gives it. "
        "Empty: the SQLite file <output_dir>/tune/<study>.db.",
    )
    trials: int = Field(20, ge=1, le=10_000, description="Trials this run adds to the study.")

    @field_validator("storage")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        parts = urlsplit(value) if value else None
        if parts is not None and parts.password is not None:
            user = parts.username or ""
            raise ValueError(
                f"the URL holds a password ({parts.scheme}://{user}:***@{parts.hostname}...): "
                "configs are kept in run records, deployments and trackers; give the password "
                "through PGPASSWORD or ~/.pgpass on each machine instead")
        return value
    timeout_minutes: float | None = Field(
        None, gt=0, le=100_000,
        description="Stop starting trials after this many minutes (running ones finish); "
        "empty: no limit.",
    )
    folds: int = Field(
        0, ge=0, le=20,
        description="0: one fit per trial on the training part, scored on the validation "
        "part; K >= 1: the mean over K walk-forward folds (backtest.step apart), each scored on "
        "its own validation part. The test part is never read.",
    )
    seed: int = Field(0, ge=0, description="Seed of the TPE sampler (worker i uses seed + i).")
    max_steps: int | None = Field(
        600, ge=1, le=10_000_000,
        description="Cap on each trial's training.max_steps (a trial fits at most this many "
        "optimizer steps, fewer when training.max_steps is lower); empty: no cap.",
    )
    max_time_minutes: float = Field(
        3, gt=0, le=100_000,
        description="Cap on each trial's training.max_time_minutes (per fit).",
    )
    startup_trials: int = Field(
        5, ge=0, le=1000,
        description="Median pruner: completed trials before it prunes anything (TPE samples "
        "at random for as many trials).",
    )
    warmup_checks: int = Field(2, ge=0, le=1000, description="Median pruner: validation "
                               "checks of a fit before it may be pruned.")
    diagnose: bool = Field(
        True,
        description="Prune a trial as soon as its recorded curves show divergence, exploding "
        "gradients or a plateau (the diagnosis' own detectors), with that finding as reason.",
    )
    prune: Literal["median", "none"] = Field(
        "median", description="'median': Optuna's MedianPruner on the per-check reports.")
    space: SearchSpace = Field(default_factory=SearchSpace)
