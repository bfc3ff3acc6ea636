"""Every `--set` key that exists today keeps working: config keys are a public interface, so a
rename or removal (without a deprecation that still accepts the old key) fails here.

The list is every leaf of PipelineConfig as of the config split (issue 9), each with a valid
value other than its default where one exists, as a user would type it on the command line.
"""

from __future__ import annotations

import pytest
import yaml

from lstmflow.config import apply_overrides, build_config

BASE = {"data": {"path": "x.csv", "timestamp_column": "t"}, "quality": {"bounds": {"Close": {"min": 0}}}}
SET_KEYS = [
    "name=nightly", "data.path=other.csv", "data.format=csv", "data.layout=long",
    "data.wide_columns=null", "data.timestamp_column=Date", "data.timestamp_format='%d/%m/%Y'",
    "data.timezone=UTC", "data.series_column=Ticker", "data.target_column=Close",
    "data.covariates=[Volume]", "data.freq=B", "data.na_values=['', NA]", "data.delimiter=';'",
    "data.decimal=','", "data.series=[AAPL, MSFT]", "data.short_series=fail",
    "forecast.horizon=10", "forecast.input_size=32",
    "quality.enabled=false", "quality.max_missing_ratio=0.3", "quality.max_gap_steps=10",
    "quality.max_off_grid_ratio=0.05", "quality.bounds={Close: {min: 0, strict: true}}",
    "quality.bounds.Close.min=0", "quality.bounds.Close.max=1000", "quality.bounds.Close.strict=true",
    "quality.max_jump_ratio=20", "quality.jump_columns=[Volume]", "quality.outlier_window=30",
    "quality.outlier_threshold=8", "quality.max_outlier_ratio=0.02", "quality.max_staleness=7D",
    "quality.as_of=2024-01-01T00:00:00Z", "quality.min_history=200", "quality.max_scaled_abs=500",
    "quality.severity={gap: warning}", "quality.severity.outliers=error",
    "preprocess.impute=linear", "preprocess.max_gap=3", "preprocess.knn_neighbors=3",
    "preprocess.knn_max_donors=500", "preprocess.missing_indicators=true",
    "preprocess.scaler=robust", "preprocess.auto_kurtosis=4", "preprocess.auto_outlier_share=0.01",
    "preprocess.target_transform=log_return",
    "features.return_periods=[1, 5]", "features.return_kind=simple",
    "features.rolling_mean_windows=[10]", "features.volatility_windows=[10]",
    "features.annualize_volatility=true", "features.periods_per_year=252",
    "features.zscore_windows=[10]", "features.ema_spans=[12]", "features.rsi_windows=[14]",
    "features.macd_spans=[12, 26, 9]", "features.bollinger_windows=[20]", "features.bollinger_k=2.5",
    "features.calendar=[month]",
    "model.hidden_size=32", "model.num_layers=1", "model.dropout=0.2", "model.loss=mse",
    "model.huber_delta=2.0", "model.quantiles=[0.05, 0.5, 0.95]",
    "training.max_steps=2000", "training.min_steps=100", "training.val_check_steps=50",
    "training.max_epochs=20",  # deprecated (the epoch budget), still accepted
    "training.batch_size=64", "training.learning_rate=0.003",
    "training.optimizer=adam", "training.weight_decay=0.001", "training.l1_penalty=0.0001",
    "training.gradient_clip=0.5", "training.scheduler=cosine", "training.lr_factor=0.3",
    "training.lr_patience=2", "training.min_lr=1e-5", "training.patience=8",
    "training.min_delta=0.001", "training.burn_in=4", "training.every_step=false",
    "training.window_stride=4",
    "training.max_windows_per_epoch=5000",  # deprecated (windows between checks), still accepted
    "training.max_time_minutes=10", "training.seed=7", "training.deterministic=true",
    "evaluation.test_size=30", "evaluation.val_size=40", "evaluation.season=7",
    "registry.promote=never", "output_dir=elsewhere",
]


@pytest.mark.parametrize("item", SET_KEYS, ids=[i.split("=", 1)[0] for i in SET_KEYS])
def test_every_set_key_still_validates(item):
    import copy

    key, value = item.split("=", 1)
    cfg = build_config(apply_overrides(copy.deepcopy(BASE), [item])).model_dump(mode="python")
    node = cfg
    for part in key.split("."):
        node = node[part]
    wanted = yaml.safe_load(value)
    if isinstance(node, float):
        assert node == float(wanted)  # the value landed where the key says
    elif isinstance(wanted, str | int | bool) and key != "quality.as_of":
        assert node == wanted


def test_the_list_covers_every_section():
    sections = {i.split("=", 1)[0].split(".")[0] for i in SET_KEYS}
    assert sections == {"name", "data", "forecast", "quality", "preprocess", "features", "model",
                        "training", "evaluation", "registry", "output_dir"}
