"""The keys a user changes: what `lstmflow init` writes, the README shows and docs/config.md
lists first. Every other key stays valid with its default (docs/config.md documents them all)."""

from __future__ import annotations

COMMON_KEYS: tuple[str, ...] = (
    "name",
    "data.path", "data.timestamp_column", "data.series_column", "data.target_column",
    "data.covariates", "data.freq",
    "forecast.horizon", "forecast.input_size",
    "evaluation.val_size", "evaluation.test_size", "evaluation.season",
    "preprocess.target_transform",
    "model.hidden_size", "model.num_layers", "model.dropout",
    "training.learning_rate", "training.max_time_minutes", "training.auto_repair",
    "training.seed",
    "registry.promote", "registry.min_improvement",
    "output_dir",
)
