"""The step budget: chosen from the data, comparable across lengths, checked per validation
period by real (tiny) Lightning fits; the deprecated epoch keys still run."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lstmflow.config import build_config
from lstmflow.config.fit import TrainingConfig
from lstmflow.data.arrays import SeriesArrays
from lstmflow.data.split import Bounds
from lstmflow.fit.budget import choose_batch_size, choose_stride, resolve_budget
from lstmflow.fit.lr_find import LR_FIND
from lstmflow.fit.model import build_datasets, build_model
from lstmflow.fit.train import train_model
from models.data import StreamBatches
from tests.conftest import small_config_dict
from tests.test_resume import EpochsSeen, KillAt, Killed
from tests.test_train import prepared_for


def series(n: int, seed: int = 0) -> SeriesArrays:
    """A scaled seasonal series of n rows split 80/10/10, as prepare would hand it over."""
    rng = np.random.default_rng(seed)
    z = (np.sin(np.arange(n) * 2 * np.pi / 24) + rng.normal(0, 0.3, n)).astype(np.float32)
    val_end = n - n // 10
    return SeriesArrays(
        series_id="s", timestamps=np.arange(n).astype("datetime64[h]"), x=z[:, None].copy(), z=z,
        level=z.astype("float64"), actual=z.astype("float64"),
        bounds=Bounds(val_end - n // 10, val_end, n),
    )


def budget_for(n: int, **training):
    raw = small_config_dict("x.csv", "out", training=training)
    raw["forecast"] = {"horizon": 3, "input_size": 32}
    cfg = build_config(raw)
    arrays = [series(n)]
    train_ds, val_ds = build_datasets(arrays, cfg)
    stride = choose_stride(cfg.training, sum(a.bounds.train_end for a in arrays))
    return resolve_budget(cfg.training, len(train_ds), len(val_ds), stride)


def test_a_20x_longer_series_gets_a_comparable_number_of_updates():
    short, long = budget_for(1_500), budget_for(30_000)
    assert long.train_windows > 15 * short.train_windows
    assert short.mode == long.mode == "steps" and not short.notes
    assert 0.5 <= long.max_steps / short.max_steps <= 2  # updates hardly depend on the length
    assert long.batch_size > short.batch_size  # the long series gets more windows per update
    # The deprecated epoch budget this replaces (training.max_epochs still runs it, with a
    # deprecation note): the same 30 epochs are 20x more updates on the long one.
    old_short, old_long = budget_for(1_500, max_epochs=30), budget_for(30_000, max_epochs=30)
    assert old_long.total_steps > 10 * old_short.total_steps
    assert "max_epochs is deprecated" in old_short.notes[0]


def test_a_warm_budget_shortens_steps_and_patience_alike():
    """A warm start's budget: 0.3 of the steps in whole checks of half the cold size, and 0.3
    of the patience (at least one check), so a fit that starts at its optimum can stop early."""
    from lstmflow.fit.budget import WARM_MIN_CHECKS, shortened

    cold = budget_for(3_000, patience=5)
    warm = shortened(cold, 0.3)
    checks = warm.max_steps // warm.steps_per_check
    assert warm.steps_per_check == cold.steps_per_check // 2 and warm.max_steps % warm.steps_per_check == 0
    assert warm.windows_per_check == warm.steps_per_check * warm.batch_size
    assert checks == max(WARM_MIN_CHECKS, -(-0.3 * cold.max_steps // warm.steps_per_check))
    assert (cold.patience, warm.patience) == (5, 2) and warm.patience < checks
    assert warm.plateau_patience == max(1, -(-0.3 * cold.plateau_patience // 1))
    assert shortened(cold, 0.01).patience == 1 and "warm start" in warm.auto


@pytest.mark.parametrize(("windows", "batch"), [(100, 16), (1_000, 16), (16_000, 64),
                                                (250_000, 256), (10**7, 256)])
def test_batch_size_grows_slower_than_the_data(windows, batch):
    assert choose_batch_size(windows) == batch


def test_stride_is_every_origin_until_the_pool_is_huge():
    t = TrainingConfig()
    assert choose_stride(t, 40_000) == 1 and choose_stride(t, 3_000_000) == 3
    # the deprecated training.max_epochs keeps the epoch budget's old default stride
    assert choose_stride(TrainingConfig(max_epochs=5), 40_000) == 16
    assert choose_stride(TrainingConfig(window_stride=4), 40_000) == 4


def test_explicit_keys_win_and_old_keys_keep_working():
    """The step keys as given; the deprecated training.max_windows_per_epoch keeps working
    under a step budget, with its new meaning said in a note."""
    b = budget_for(5_000, max_steps=400, min_steps=20, val_check_steps=25, batch_size=8)
    assert (b.max_steps, b.min_steps, b.steps_per_check, b.batch_size) == (400, 20, 25, 8)
    assert b.auto == ["window_stride"]
    capped = budget_for(5_000, max_windows_per_epoch=640, batch_size=32)  # old key, new meaning
    assert capped.steps_per_check == 20 and "max_windows_per_epoch is deprecated" in capped.notes[0]
    with pytest.raises(Exception, match="min_steps"):
        TrainingConfig(max_steps=10, min_steps=20)


def test_stream_draws_every_window_equally_often_and_replays_an_epoch():
    s = StreamBatches(n=10, batch_size=4, steps=5, seed=3)  # 20 draws per epoch: 2 passes
    seen = []
    for epoch in range(3):
        s.set_epoch(epoch)
        batches = list(s)
        assert len(batches) == 5 and all(len(b) == 4 for b in batches)
        seen += torch.cat(batches).tolist()
    assert np.bincount(seen, minlength=10).tolist() == [6] * 10
    s.set_epoch(1)
    first = torch.cat(list(s))
    s.set_epoch(1)
    assert torch.equal(torch.cat(list(s)), first)


def test_iterating_the_loaders_leaves_torchs_global_rng_alone(step_setup):
    """Fits in threads side by side (backtest folds) seed and init under a lock; a loader that
    drew its per-epoch base seed from the global RNG would move another fit's init."""
    from models.data import loader

    cfg, arrays = step_setup
    train_ds, val_ds = build_datasets(arrays, cfg)
    loaders = [loader(train_ds, 32, shuffle=True, seed=1, steps=3),
               loader(train_ds, 32, shuffle=True, seed=1, cap=64), loader(val_ds, 64, False)]
    before = torch.random.get_rng_state()
    for dl in loaders:
        for _ in range(2):  # a new iterator per epoch
            assert len(list(dl)) > 0
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.fixture(scope="module")
def step_setup(sample_slice, tmp_path_factory):
    raw = small_config_dict(sample_slice, tmp_path_factory.mktemp("out"))
    raw["training"] = {"max_steps": 40, "val_check_steps": 10, "min_steps": 0, "patience": 100,
                       "batch_size": 32}
    cfg = build_config(raw)
    return cfg, prepared_for(cfg).arrays


def test_step_budget_validates_every_n_steps_and_records_a_row_per_check(step_setup):
    cfg, arrays = step_setup
    lines: list[str] = []
    res = train_model(arrays, cfg, log=lines.append)
    assert res.steps_run == 40 and res.epochs_run == 4
    assert [h["step"] for h in res.history] == [10, 20, 30, 40]
    assert all(h["batches"] == 10 and h["val_loss"] is not None for h in res.history)
    assert res.windows["train_per_epoch"] == 320 and res.budget["mode"] == "steps"
    assert any(line.startswith("budget: <= 40 steps") for line in lines)
    assert any(line.startswith("check 1 (step 10/40)") for line in lines)


def test_min_steps_holds_early_stopping_back(step_setup, tmp_path):
    cfg, arrays = step_setup
    res = train_model(arrays, with_training(cfg, patience=1, min_steps=30, max_steps=200,
                                            learning_rate=0.5, scheduler="none"))
    assert 30 <= res.steps_run < 200  # stopped early, but not before min_steps


def test_cosine_anneals_over_the_step_budget(step_setup):
    cfg, arrays = step_setup
    cfg = with_training(cfg, scheduler="cosine")
    budget = budget_for(1_000, max_steps=35, val_check_steps=10)  # whole checks: 40 steps
    sched = build_model(cfg, 4, budget).configure_optimizers()["lr_scheduler"]
    assert sched["scheduler"].T_max == 40 and sched["interval"] == "step"
    res = train_model(arrays, cfg)
    lrs = [h["lr"] for h in res.history]
    assert lrs[0] == pytest.approx(3e-3) and lrs[0] > lrs[1] > lrs[2] > lrs[3]


def test_a_killed_step_fit_resumes_to_the_same_result(step_setup, tmp_path):
    cfg, arrays = step_setup
    with pytest.raises(Killed):
        train_model(arrays, cfg, run_dir=tmp_path, extra_callbacks=[KillAt(2)])
    seen = EpochsSeen()
    resumed = train_model(arrays, cfg, run_dir=tmp_path, resume=True, extra_callbacks=[seen])
    assert seen.started == [2, 3] and resumed.steps_run == 40
    whole = train_model(arrays, cfg)
    assert [h["step"] for h in resumed.history] == [10, 20, 30, 40]
    np.testing.assert_allclose([h["train_loss"] for h in resumed.history],
                               [h["train_loss"] for h in whole.history], rtol=1e-5)
    assert resumed.best_val_loss == pytest.approx(whole.best_val_loss, rel=1e-5)


def test_learning_rate_auto_is_found_saved_and_reused_on_resume(step_setup, tmp_path):
    cfg, arrays = step_setup
    cfg = with_training(cfg, learning_rate="auto")
    with pytest.raises(Killed):
        train_model(arrays, cfg, run_dir=tmp_path, extra_callbacks=[KillAt(1)])
    found = json.loads((tmp_path / LR_FIND).read_text())
    assert len(found["lr"]) == len(found["loss"]) >= 5
    assert found["lr"] == sorted(found["lr"]) and found["lr"][0] < found["lr"][-1]
    assert 1e-5 <= found["chosen"] <= 1e-1
    (tmp_path / LR_FIND).write_text(json.dumps({**found, "chosen": 0.0123}))
    resumed = train_model(arrays, cfg, run_dir=tmp_path, resume=True)
    assert resumed.learning_rate == pytest.approx(0.0123)  # read back, not searched again
    fresh = train_model(arrays, cfg)
    assert fresh.learning_rate == pytest.approx(found["chosen"])  # the same seed, the same search


def test_a_refit_with_overrides_uses_the_same_windows_and_seed(step_setup):
    """What a repair does: the same prepared arrays, a remedy as --set overrides."""
    from lstmflow.config import with_overrides

    cfg, arrays = step_setup
    again = with_overrides(cfg, ["training.learning_rate=0.003"])
    assert again.training.learning_rate == 0.003 and again.data == cfg.data
    a, b = train_model(arrays, again), train_model(arrays, again)
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert a.budget == b.budget and a.budget == train_model(arrays, cfg).budget


def test_the_time_budget_caps_a_step_budget(step_setup):
    cfg, arrays = step_setup
    capped = with_training(cfg, max_steps=1_000_000, max_time_minutes=0.02)
    res = train_model(arrays, capped)
    assert 1 <= res.steps_run < 1_000_000  # stopped by the clock, not the step cap


def test_a_killed_fit_under_the_deprecated_epoch_budget_resumes(step_setup, tmp_path):
    """The deprecated training.max_epochs (one check per pass over the windows) still runs, says
    so, and a killed fit of it resumes to the result of an uninterrupted one."""
    cfg, arrays = step_setup
    raw = cfg.model_dump(mode="json")
    raw["training"].update(max_epochs=3, max_steps=None, min_steps=None, val_check_steps=None)
    cfg = build_config(raw)
    with pytest.raises(Killed):
        train_model(arrays, cfg, run_dir=tmp_path, extra_callbacks=[KillAt(2)])
    seen, lines = EpochsSeen(), []
    resumed = train_model(arrays, cfg, run_dir=tmp_path, resume=True, extra_callbacks=[seen],
                          log=lines.append)
    assert any("training.max_epochs is deprecated" in line for line in lines)
    assert resumed.budget["mode"] == "epochs" and seen.started == [2]
    assert resumed.resumed_from_epoch == 2 and resumed.epochs_run == 3
    per_pass = -(-resumed.windows["train"] // 32)  # an epoch: one pass over the windows
    assert [h["batches"] for h in resumed.history] == [per_pass] * 3
    whole = train_model(arrays, cfg)
    np.testing.assert_allclose([h["train_loss"] for h in resumed.history],
                               [h["train_loss"] for h in whole.history], rtol=1e-5)


def with_training(cfg, **training):
    raw = cfg.model_dump(mode="json")
    raw["training"].update(training)
    return build_config(raw)
