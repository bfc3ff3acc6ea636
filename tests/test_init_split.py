"""`lstmflow init` checks that its validation and test parts hold forecast origins to score on
the actual data: a long gap just before the test part widens the split, a series without one
keeps the sizes init always chose, and a gap nothing fixes is said under NOT DECIDED
(real ingestion, preprocessing, Prefect and Lightning on tiny data)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from lstmflow.config import load_config
from lstmflow.init.build import infer_config
from lstmflow.init.infer import choose_sizes
from lstmflow.init.render import render_yaml
from tests.conftest import random_walk

N, H = 1000, 6  # hourly rows; init: input_size 64, validation and test 100 rows each
QUIET = {"log": lambda _: None, "horizon": H, "try_transforms": False}


def _csv(tmp_path, name, hole=None, seed=3):
    """An hourly random walk whose rows [start, stop) are absent from the file."""
    df = random_walk(N, seed=seed, freq="h")
    if hole:
        df = df.drop(index=np.arange(*hole))
    path = tmp_path / f"{name}.csv"
    df.to_csv(path, index=False)
    return path


def _sizes(inf):
    return {"input_size": inf.raw["forecast"]["input_size"],
            "val_size": inf.raw["evaluation"]["val_size"],
            "test_size": inf.raw["evaluation"]["test_size"]}


@pytest.mark.parametrize("hole", [None, (200, 300)], ids=["no gap", "gap in training"])
def test_without_a_gap_before_the_test_part_the_sizes_are_unchanged(tmp_path, hole):
    inf = infer_config(str(_csv(tmp_path, "walk", hole)), **QUIET)
    before, _ = choose_sizes([N], H, inf.raw["evaluation"]["season"])  # what init always chose
    assert _sizes(inf) == before == {"input_size": 64, "val_size": 100, "test_size": 100}
    assert not any("split widened" in n for n in inf.notes)
    assert not any("too long to evaluate" in u for u in inf.undecided)


def test_a_long_gap_before_the_test_part_widens_the_split_and_the_run_scores_test_points(
        prefect_harness, tmp_path):
    """Rows 880-959 absent: after them the first origin needs 20 warm-up + 64 known rows, so
    the 100-row test part (rows 900-999) had none; from 130 rows on it holds origins before
    the gap whose horizon is observed."""
    from flows.training import train_flow

    hole = (880, 960)
    inf = infer_config(str(_csv(tmp_path, "holed", hole)), output_dir=str(tmp_path / "out"),
                       **QUIET)
    sizes = _sizes(inf)
    assert sizes["input_size"] == 64 and sizes["val_size"] == sizes["test_size"] > 100
    note = next(n for n in inf.notes if n.startswith("split widened"))
    assert "validation and test 100 -> " in note and "100 rows each they have" in note
    assert "have 0 and" not in note and "and 0 (" in note  # validation had origins, test none
    assert "changed to" in inf.why["evaluation.test_size"]
    # Only where data is present decides: other values at the same rows give the same sizes.
    other = infer_config(str(_csv(tmp_path, "other", hole, seed=11)), **QUIET)
    assert _sizes(other) == sizes

    path = tmp_path / "holed.yaml"
    text = render_yaml(inf, "lstmflow init --data holed.csv")
    assert "# split widened" in text
    path.write_text(text)
    cfg = load_config(path, ["training.max_steps=10", "training.val_check_steps=5",
                             "training.auto_repair=0", "model.hidden_size=8", "model.num_layers=1"])
    state = train_flow(cfg, return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary["metrics"]["model"]["points"] > 0


def test_a_gap_too_long_to_evaluate_on_is_said_under_not_decided(tmp_path):
    """Rows 500-979 absent: every validation/test size the training part allows lies in the
    gap or too close after it, for every window down to 2 x horizon."""
    inf = infer_config(str(_csv(tmp_path, "lost", (500, 980))), **QUIET)
    assert _sizes(inf) == {"input_size": 64, "val_size": 100, "test_size": 100}  # left as chosen
    said = [u for u in inf.undecided if "too long to evaluate on" in u]
    assert len(said) == 1 and "they have 0 and 0" in said[0] and "down to 12" in said[0]
    assert "preprocess.max_gap" in said[0]
    text = render_yaml(inf, "lstmflow init --data lost.csv")
    assert "# NOT DECIDED: validation and test need at least 6 forecast origins" in text


def test_widening_the_split_keeps_enough_training_windows_between_the_gaps(tmp_path):
    """Rows 100-639 and 880-959 absent: widening validation/test to 136 rows leaves the 64-step
    window under MIN_TRAIN_WINDOWS training windows (only 100 + 240 rows around the first
    hole), so init takes a shorter window that keeps them, and says how many."""
    from lstmflow.init.build import MIN_TRAIN_WINDOWS

    df = random_walk(N, seed=3, freq="h").drop(index=np.r_[100:640, 880:960])
    path = tmp_path / "starved.csv"
    df.to_csv(path, index=False)
    inf = infer_config(str(path), **QUIET)
    sizes = _sizes(inf)
    assert sizes["val_size"] == sizes["test_size"] > 100 and sizes["input_size"] < 64
    note = next(n for n in inf.notes if n.startswith("split widened"))
    assert f"input_size 64 -> {sizes['input_size']}" in note and "training windows" in note
    trained = int(re.search(r"with (\d+) training windows", note).group(1))
    assert trained >= MIN_TRAIN_WINDOWS


def _business_hours(tmp_path, stretch: int, days: int = 40):
    """A 5-minute random walk recorded `stretch` steps a day from 07:00 (the night absent)."""
    import pandas as pd

    rng = np.random.default_rng(5)
    stamps = [pd.Timestamp("2024-01-01 07:00") + pd.Timedelta(days=d) + pd.Timedelta(minutes=5 * i)
              for d in range(days) for i in range(stretch)]
    values = 100 + np.cumsum(rng.normal(0, 1, len(stamps)))
    path = tmp_path / f"calls_{stretch}.csv"
    pd.DataFrame({"timestamp": stamps, "calls": values}).to_csv(path, index=False)
    return path


def test_a_window_longer_than_the_stretches_between_gaps_is_shortened_until_windows_fit(
        tmp_path):
    """Business hours on a 5-minute grid: 97 rows a day, then 15 h absent (longer than
    max_gap). init's usual 64-row window fits (97 - 20 warm-up rows), a day-long one does not:
    asked for a horizon whose rule wants 4 x 36 = 144 rows, init shortens the window to the
    longest that leaves training windows and says so; the written config trains."""
    from lstmflow.init.origins import SHORTER, _windows

    path = _business_hours(tmp_path, stretch=97)
    inf = infer_config(str(path), log=lambda _: None, horizon=36, try_transforms=False,
                       output_dir=str(tmp_path / "out"))
    size = inf.raw["forecast"]["input_size"]
    note = next(n for n in inf.notes if n.startswith("input_size 144 -> "))
    assert f"-> {size}:" in note and "with input_size 144 0 training windows fit" in note
    assert size in SHORTER and size < 97 - 20
    text = render_yaml(inf, "lstmflow init --data calls_97.csv")
    (tmp_path / "calls.yaml").write_text(text, encoding="utf-8")
    cfg = load_config(tmp_path / "calls.yaml")
    assert cfg.forecast.input_size == size
    from lstmflow.data.ingest import ingest

    frame = ingest(cfg.data).frame  # the windows a run of the written config gets
    counts = _windows(frame, inf.raw, [144, size])
    assert counts[144]["train"] == 0 and counts[size]["train"] >= 50


def test_stretches_too_short_for_any_window_are_said_not_decided(tmp_path):
    path = _business_hours(tmp_path, stretch=20, days=40)
    inf = infer_config(str(path), log=lambda _: None, horizon=4, try_transforms=True,
                       output_dir=str(tmp_path / "out"))
    assert any("no input_size down to 8 gives 50" in u for u in inf.undecided)
    assert any("target transform not compared (no training window fits)" in u
               for u in inf.undecided)
