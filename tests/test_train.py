"""Real (tiny) Lightning fits through train_model: each guard is checked by what it does."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from lstmflow.config import PipelineConfig, build_config
from lstmflow.fit.model import build_datasets
from lstmflow.fit.origins import predict_origins, predict_quantiles
from lstmflow.fit.train import save_history, train_model
from tests.conftest import small_config_dict


def prepared_for(cfg: PipelineConfig):
    """Ingest > split > prepare, as the flow does, without Prefect."""
    from lstmflow.data.ingest import ingest
    from lstmflow.data.prepare import prepare
    from lstmflow.data.split import split_bounds

    frame = ingest(cfg.data).frame
    return prepare(frame, split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size),
                   cfg)


def config(path: Path, out: Path, **training) -> PipelineConfig:
    raw = small_config_dict(path, out)
    raw["training"].update(training)
    return build_config(raw)


def step_budget(arrays, cfg: PipelineConfig):
    """The training and validation windows of `cfg` and its step budget, as train_model
    resolves them (for tests that build the trainer themselves)."""
    from lstmflow.fit.budget import resolve_budget
    from lstmflow.fit.model import window_stride

    train_ds, val_ds = build_datasets(arrays, cfg)
    return train_ds, val_ds, resolve_budget(cfg.training, len(train_ds), len(val_ds),
                                            window_stride(cfg, arrays))


@pytest.fixture(scope="module")
def arrays(sample_slice, tmp_path_factory):
    return prepared_for(config(sample_slice, tmp_path_factory.mktemp("o"))).arrays


def test_history_records_every_diagnosis_field(arrays, sample_slice, tmp_path):
    cfg = config(sample_slice, tmp_path, max_steps=8)  # two validation checks of 4 steps
    lines: list[str] = []
    res = train_model(arrays, cfg, log=lines.append)
    assert not [line for line in lines if line.startswith("warning:")]  # no deprecation note
    lines = [line for line in lines if not line.startswith("budget:")]
    assert [h["epoch"] for h in res.history] == [0, 1] and len(lines) == 2
    assert [h["step"] for h in res.history] == [4, 8]
    assert lines[0].startswith("check 1 (step 4/8): train_loss=") and "lr=3.00e-03" in lines[0]
    row = res.history[-1]
    for key in ("train_loss", "val_loss", "lr", "grad_norm_mean", "grad_norm_max",
                "grad_norm_clipped_max", "nonfinite_losses", "nonfinite_grads", "batch_loss_var",
                "grad_norm_mean:lstm.l0", "grad_norm_max:lstm.l0", "grad_norm_max:head"):
        assert row[key] is not None, key
    assert row["batch_loss_var"] > 0 and row["nonfinite_losses"] == 0
    assert row["grad_norm_max:lstm.l0"] <= row["grad_norm_max"] + 1e-6
    assert row["batches"] == cfg.training.val_check_steps  # the steps between two checks
    jpath, cpath = save_history(res.history, tmp_path)
    assert json.loads(jpath.read_text())[1]["epoch"] == 1
    rows = list(csv.DictReader(cpath.open()))
    assert len(rows) == 2 and "grad_norm_mean:head" in rows[0]


def test_gradient_clipping_bounds_the_applied_norm(arrays, sample_slice, tmp_path):
    clipped = train_model(arrays, config(sample_slice, tmp_path, max_steps=4,
                                         gradient_clip=1e-3)).history[0]
    assert clipped["grad_norm_max"] > 1e-3  # the loss asked for more ...
    assert clipped["grad_norm_clipped_max"] <= 1e-3 * 1.001  # ... the optimiser got at most this
    free = train_model(arrays, config(sample_slice, tmp_path, max_steps=4,
                                      gradient_clip=0)).history[0]
    assert free["grad_norm_clipped_max"] > 1e-3


def test_val_check_steps_limits_the_batches_between_checks(arrays, sample_slice, tmp_path):
    cfg = config(sample_slice, tmp_path, max_steps=3, val_check_steps=3, batch_size=16)
    res = train_model(arrays, cfg)
    assert res.windows["train"] > 48 and res.windows["train_per_epoch"] == 48  # 3 x 16
    assert res.history[0]["batches"] == 3 and len(res.history) == 1


def test_early_stopping_restores_the_best_weights(arrays, sample_slice, tmp_path):
    cfg = config(sample_slice, tmp_path, max_steps=48, patience=2, learning_rate=0.05,
                 scheduler="none")  # up to 12 checks
    res = train_model(arrays, cfg)
    vals = [h["val_loss"] for h in res.history]
    assert res.epochs_run < 12 and res.steps_run < 48  # stopped early
    assert res.best_epoch == int(np.argmin(vals)) < len(vals) - 1  # the last epoch was worse
    _, val_ds = build_datasets(arrays, cfg)
    res.model.eval()
    with torch.no_grad():
        loss = res.model.masked_loss(val_ds[torch.arange(len(val_ds))])
    assert loss.item() == pytest.approx(min(vals), rel=1e-4)  # the model holds the best epoch


def test_cosine_schedule_lowers_the_rate_every_check(arrays, sample_slice, tmp_path):
    res = train_model(arrays, config(sample_slice, tmp_path, max_steps=12, scheduler="cosine",
                                     patience=10))
    lrs = [h["lr"] for h in res.history]
    assert lrs[0] == pytest.approx(3e-3) and lrs[0] > lrs[1] > lrs[2]


def test_deterministic_fits_repeat_exactly(arrays, sample_slice, tmp_path):
    raw = small_config_dict(sample_slice, tmp_path)
    raw["model"]["dropout"] = 0.2  # dropout draws from the seeded generator too
    raw["model"]["num_layers"] = 2
    raw["training"].update(max_steps=8, deterministic=True)
    cfg = build_config(raw)
    a, b = train_model(arrays, cfg), train_model(arrays, cfg)
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k])


def test_time_budget_stops_the_fit(arrays, sample_slice, tmp_path):
    res = train_model(arrays, config(sample_slice, tmp_path, max_steps=2000, patience=500,
                                     max_time_minutes=0.02))
    assert 1 <= res.epochs_run < 500 and res.steps_run < 2000


def test_quantile_fit_gives_intervals_and_a_median_point_forecast(arrays, sample_slice, tmp_path):
    raw = small_config_dict(sample_slice, tmp_path)
    raw["model"].update(loss="quantile", quantiles=[0.1, 0.5, 0.9])
    raw["training"].update(max_steps=12, learning_rate=0.02)
    cfg = build_config(raw)
    res = train_model(arrays, cfg)
    _, ends, qhat = predict_quantiles(res.model, arrays, cfg, "test")
    _, ends2, zhat = predict_origins(res.model, arrays, cfg, "test")
    assert qhat.shape == (len(ends), 3, 3) and np.array_equal(ends, ends2)
    assert np.array_equal(zhat, qhat[..., 1])
    assert (qhat[..., 2] - qhat[..., 0]).mean() > 0  # the 0.9 level sits above the 0.1 level


def test_non_finite_batch_loss_is_counted_and_skipped(arrays, sample_slice, tmp_path):
    from lstmflow.fit.trainer import build_trainer
    from models.callbacks import HistoryRecorder
    from models.data import loader
    from models.lstm import LSTMForecaster

    class PoisonFirstBatch(LSTMForecaster):
        """The first batch of every epoch yields a NaN loss."""

        def training_step(self, batch, batch_idx):
            x, y, ok = batch
            return super().training_step((x * float("nan"), y, ok) if batch_idx == 0 else batch,
                                         batch_idx)

    class WeightsAcrossFirstBatch(pl.Callback):
        """Did the (poisoned) first batch of each epoch change any weight?"""

        def __init__(self) -> None:
            self.changed: list[bool] = []

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.before = [p.detach().clone() for p in pl_module.parameters()]

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if batch_idx in (0, 1):
                self.changed.append(any(not torch.equal(a, p) for a, p in
                                        zip(self.before, pl_module.parameters(), strict=True)))

    cfg = config(sample_slice, tmp_path, max_steps=8)  # two checks of 4 steps
    train_ds, val_ds, budget = step_budget(arrays, cfg)
    model = PoisonFirstBatch(n_inputs=arrays[0].x.shape[1], horizon=3, hidden_size=8)
    recorder, watch = HistoryRecorder(), WeightsAcrossFirstBatch()
    trainer = build_trainer(cfg, [recorder, watch], budget=budget)
    trainer.fit(model, loader(train_ds, 64, True, steps=budget.steps_per_check),
                loader(val_ds, 256, False))
    assert [h["nonfinite_losses"] for h in recorder.epochs] == [1, 1]
    assert [h["batches"] for h in recorder.epochs] == [4, 4]
    assert watch.changed == [False, True, False, True]  # poisoned steps skipped, others taken
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_large_finite_gradients_are_not_counted_as_non_finite(arrays, sample_slice, tmp_path):
    """Norms near 1e21 square to 1e42, past float32's 3.4e38: accumulated in float64 they are
    recorded as the large finite numbers they are (float32 sums called them non-finite)."""
    from lstmflow.fit.trainer import build_trainer
    from models.callbacks import HistoryRecorder
    from models.data import loader
    from models.lstm import LSTMForecaster

    class HugeLoss(LSTMForecaster):
        def training_step(self, batch, batch_idx):
            out = super().training_step(batch, batch_idx)
            return {"loss": out["loss"] * 1e22}

    cfg = config(sample_slice, tmp_path, max_steps=4)  # gradient_clip 1.0 keeps weights finite
    train_ds, val_ds, budget = step_budget(arrays, cfg)
    model = HugeLoss(n_inputs=arrays[0].x.shape[1], horizon=3, hidden_size=8, num_layers=2)
    recorder = HistoryRecorder()
    build_trainer(cfg, [recorder], budget=budget).fit(
        model, loader(train_ds, 64, True, steps=budget.steps_per_check), loader(val_ds, 256, False))
    (row,) = recorder.epochs
    assert row["nonfinite_grads"] == 0 and row["nonfinite_weights"] == 0
    assert 1e19 < row["grad_norm_max"] < float("inf")
    for layer in ("lstm.l0", "lstm.l1", "head"):  # first and last LSTM layer, and the head
        assert 0 < row[f"grad_norm_mean:{layer}"] <= row[f"grad_norm_max:{layer}"]
    assert row["grad_norm_clipped_max"] <= 1.0 * 1.001


def test_history_records_the_yardsticks_of_the_diagnosis(arrays, sample_slice, tmp_path):
    res = train_model(arrays, config(sample_slice, tmp_path, max_steps=8))  # two checks
    for row in res.history:
        assert row["train_loss_zero"] > 0 and row["val_loss_zero"] > 0  # a constant forecast
        assert row["nonfinite_weights"] == 0 and 0 < row["weight_change"] < 1
        assert row["batch_loss_max"] >= row["train_loss"]
    assert res.history[0]["val_loss_zero"] == pytest.approx(res.history[1]["val_loss_zero"])
    # subnormals are flushed during the fit only (a diverging fit ran 100x slower without it)
    assert (np.array([5e-324]) * 2)[0] > 0


def test_a_fit_with_no_finite_val_loss_keeps_its_history(tmp_path):
    """A corrupt value (gates off) makes every val loss infinite: no model, but the recorded
    epochs travel with the error so the diagnosis can still explain the run."""
    import pandas as pd

    from lstmflow.config import load_config
    from lstmflow.fit.train import FitDiverged
    from tests.conftest import ROOT

    df = pd.read_csv(ROOT / "data" / "sample" / "co2_weekly.csv")
    df.loc[len(df) - 150, "co2"] = 1e30  # inside the validation part
    df.to_csv(tmp_path / "co2.csv", index=False)
    cfg = load_config(ROOT / "configs" / "co2.yaml", [
        f"data.path={tmp_path / 'co2.csv'}", "quality.enabled=false", "model.loss=mse",
        "model.hidden_size=8", "model.num_layers=1", "training.max_steps=3",
        "training.val_check_steps=1", "training.window_stride=16", f"output_dir={tmp_path}"])
    with pytest.raises(FitDiverged, match="no finite validation loss") as err:
        train_model(prepared_for(cfg).arrays, cfg)
    assert len(err.value.history) >= 1 and err.value.history[0]["val_loss"] is None
    assert err.value.history[0]["train_loss"] > 0
