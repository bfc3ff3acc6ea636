"""A series with gaps longer than preprocess.max_gap in its training, validation and test parts:
the features warm up again after each gap, as at the series start, and the model-input gate,
training, evaluation and `lstmflow init` treat those rows alike (real Prefect, GE, Lightning)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmflow.config import build_config, load_config
from tests.conftest import prepared, random_walk

N, VAL, TEST = 3000, 300, 300  # hourly rows; train_end 2400, val_end 2700
HOLES = {"train": (500, 1400), "val": (2450, 2470), "test": (2750, 2770)}  # [start, stop) rows
MAX_GAP, H, L = 3, 6, 24


@pytest.fixture(scope="module")
def holed_csv(tmp_path_factory):
    """An hourly random walk whose hole rows are absent from the file (as in NOAA's series)."""
    df = random_walk(N, seed=7, freq="h")
    drop = np.concatenate([np.arange(a, b) for a, b in HOLES.values()])
    path = tmp_path_factory.mktemp("gaps") / "holed.csv"
    df.drop(index=drop).to_csv(path, index=False)
    return path


def _config(path, out):
    return build_config({
        "name": "holed",
        "data": {"path": str(path), "timestamp_column": "date", "target_column": "value", "freq": "h"},
        "forecast": {"horizon": H, "input_size": L},
        "preprocess": {"max_gap": MAX_GAP, "target_transform": "diff"},
        "model": {"hidden_size": 8, "num_layers": 1, "dropout": 0.0},
        "training": {"max_steps": 20, "val_check_steps": 10, "batch_size": 64, "auto_repair": 0},
        "evaluation": {"val_size": VAL, "test_size": TEST, "season": 24},
        "quality": {"severity": {"gap": "warning", "missing": "warning"}},  # what init writes
        "output_dir": str(out),
    })


def test_rows_after_each_long_gap_are_used_once_warm_and_the_run_passes_its_gates(
        prefect_harness, holed_csv, tmp_path):
    from flows.training import train_flow
    from lstmflow.data.features import warmup_steps
    from lstmflow.data.schema import SERIES, WARM
    from models.data import StackedSeries, window_ends

    cfg = _config(holed_csv, tmp_path / "out")
    prep = prepared(cfg)
    frame, warm = prep.frame, warmup_steps(cfg.features)
    # The case the gate used to refuse: past the series' first warm-up, over 20% of rows hold a
    # NaN input (the gaps themselves and the warm-up after each).
    pos = frame.groupby(SERIES).cumcount().to_numpy()
    nan_rows = frame[prep.inputs].isna().any(axis=1).to_numpy()
    assert nan_rows[pos >= warm].mean() > cfg.quality.max_missing_ratio
    # Rows the gate checks: every input defined; after a gap from its first known row + warm-up.
    warm_row = frame[WARM].to_numpy()
    assert not nan_rows[warm_row].any()
    stack = StackedSeries(prep.arrays, H)
    for split, (start, stop) in HOLES.items():
        known = stop  # ffill filled the first MAX_GAP rows of the hole; the rest stayed open
        assert warm_row[start + MAX_GAP - 1] and not warm_row[known + warm - 1]
        assert warm_row[known + warm :].all() if split == "test" else warm_row[known + warm]
        ends = window_ends(stack, prep.arrays, split, L)  # stride 1: every usable origin
        # After the gap: from the first window that starts at a warm row, every origin up to the
        # last one of the split (whose future stays inside it; training: the newest training row).
        b = prep.arrays[0].bounds
        last = {"train": b.train_end - 2, "val": b.val_end - H - 1, "test": N - H - 1}[split]
        assert np.array_equal(ends[ends >= known], np.arange(known + warm + L - 1, last + 1)), split
        assert ends[ends < known].max() <= start + MAX_GAP - 1  # none ends in the open part

    state = train_flow(cfg, run_id="holed", return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary["input_gate"]["success"] is True and summary["training"]["steps_run"] == 20
    test_ends = window_ends(stack, prep.arrays, "test", L)
    scored = np.isfinite(stack.future[test_ends].numpy()).sum()  # observed targets at those origins
    assert summary["metrics"]["model"]["points"] == scored > 0


def test_init_on_a_file_with_long_gaps_writes_a_config_that_trains(prefect_harness, holed_csv,
                                                                     tmp_path):
    from flows.training import train_flow
    from lstmflow.init.build import infer_config
    from lstmflow.init.render import render_yaml

    inf = infer_config(str(holed_csv), output_dir=str(tmp_path / "out"), fit_steps=12,
                       log=lambda _: None)
    path = tmp_path / "holed.yaml"
    path.write_text(render_yaml(inf, "lstmflow init --data holed.csv"))
    assert inf.raw["quality"]["severity"]["gap"] == "warning"  # gate 1 reports the long gap
    cfg = load_config(path, ["training.max_steps=20", "training.val_check_steps=10",
                             "training.auto_repair=0", "model.hidden_size=8", "model.num_layers=1"])
    state = train_flow(cfg, return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary["input_gate"]["success"] is True and summary["metrics"]["model"]["points"] > 0
