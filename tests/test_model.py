"""The LightningModule on its own: shapes, losses, penalties, optimisers, rebuild from JSON."""

from __future__ import annotations

import json

import pytest
import torch

from lstmflow.config import ConfigError, build_config
from models.lstm import LSTMForecaster, pinball
from tests.conftest import small_config_dict


def batch(b: int = 4, length: int = 12, f: int = 3, h: int = 2, seed: int = 0):
    """A random (x, y, ok) batch with every target kept."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, length, f, generator=g)  # [B, L, F]
    y = torch.randn(b, length, h, generator=g)  # [B, L, H]
    return x, y, torch.ones(b, length, h, dtype=torch.bool)


def test_point_and_quantile_heads_have_the_right_shapes():
    x, _, _ = batch()
    point = LSTMForecaster(3, 2, hidden_size=8, num_layers=2)
    assert point(x).shape == (4, 12, 2, 1)
    assert point.predict_last(x).shape == (4, 2)
    q = LSTMForecaster(3, 2, hidden_size=8, loss="quantile", quantiles=[0.1, 0.5, 0.9])
    levels = q.predict_quantiles(x)  # [B, H, Q]
    assert levels.shape == (4, 2, 3)
    assert torch.equal(q.predict_last(x), levels[..., 1])  # the point forecast is the median


def test_pinball_loss_weighs_under_and_over_forecasts_by_level():
    q = torch.tensor([0.1, 0.9])
    y = torch.ones(1, 1, 1)
    under = pinball(torch.zeros(1, 1, 1, 2), y, q)  # forecast 0 below the actual 1
    over = pinball(torch.full((1, 1, 1, 2), 2.0), y, q)  # forecast 2 above it
    assert under.item() == pytest.approx((0.1 + 0.9) / 2)
    assert over.item() == pytest.approx((0.9 + 0.1) / 2)
    only_high = pinball(torch.zeros(1, 1, 1, 1), y, torch.tensor([0.9]))
    assert only_high.item() == pytest.approx(0.9)


@pytest.mark.filterwarnings(r"ignore:You are trying to `self.log\(\)`")
def test_l1_penalty_adds_exactly_its_term_to_the_training_loss():
    torch.manual_seed(0)
    plain = LSTMForecaster(3, 2, hidden_size=8, dropout=0.0)
    l1 = LSTMForecaster(3, 2, hidden_size=8, dropout=0.0, l1_penalty=1e-3)
    l1.load_state_dict(plain.state_dict())
    b = batch()
    base = plain.training_step(b, 0)["loss"]
    pen = l1.training_step(b, 0)["loss"]
    weights = sum(p.abs().sum() for n, p in l1.named_parameters() if "weight" in n)
    assert pen.item() > base.item()
    assert pen.item() == pytest.approx(base.item() + 1e-3 * weights.item(), rel=1e-5)


def test_masked_targets_do_not_count():
    m = LSTMForecaster(3, 2, hidden_size=8, dropout=0.0, loss="mse")
    x, y, ok = batch()
    ok[:, :6] = False
    y_changed = y.clone()
    y_changed[:, :6] += 100.0  # only masked targets change
    assert m.masked_loss((x, y, ok)).item() == pytest.approx(m.masked_loss((x, y_changed, ok)).item())


def test_non_finite_loss_skips_the_step():
    m = LSTMForecaster(3, 2, hidden_size=8)
    x, y, ok = batch()
    x[0, 0, 0] = float("nan")
    assert m.training_step((x, y, ok), 0) is None


@pytest.mark.parametrize(
    ("optimizer", "cls"),
    [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("rmsprop", torch.optim.RMSprop)],
)
def test_optimizer_choice_and_weight_decay(optimizer, cls):
    m = LSTMForecaster(3, 2, hidden_size=8, optimizer=optimizer, weight_decay=0.01)
    opt = m.configure_optimizers()["optimizer"]
    assert type(opt) is cls and opt.param_groups[0]["weight_decay"] == 0.01


def test_schedulers():
    plateau = LSTMForecaster(3, 2, scheduler="plateau", plateau_patience=3).configure_optimizers()
    sched = plateau["lr_scheduler"]
    assert isinstance(sched["scheduler"], torch.optim.lr_scheduler.ReduceLROnPlateau)
    assert sched["monitor"] == "val_loss" and sched["scheduler"].patience == 3
    cosine = LSTMForecaster(3, 2, scheduler="cosine", max_steps=7).configure_optimizers()
    assert cosine["lr_scheduler"]["scheduler"].T_max == 7  # anneals over the step budget
    assert cosine["lr_scheduler"]["interval"] == "step"
    # the deprecated epoch budget (and models saved before step budgets) anneal per epoch
    per_epoch = LSTMForecaster(3, 2, scheduler="cosine", max_epochs=7).configure_optimizers()
    assert per_epoch["lr_scheduler"]["scheduler"].T_max == 7
    assert per_epoch["lr_scheduler"]["interval"] == "epoch"
    assert isinstance(LSTMForecaster(3, 2, scheduler="none").configure_optimizers(),
                      torch.optim.Optimizer)


def test_rebuilds_from_json_hparams_including_old_versions():
    m = LSTMForecaster(3, 2, hidden_size=8, loss="quantile", quantiles=[0.2, 0.5, 0.8])
    hp = json.loads(json.dumps(dict(m.hparams)))
    again = LSTMForecaster(**hp)
    again.load_state_dict(m.state_dict())
    x, _, _ = batch()
    assert torch.equal(again.predict_quantiles(x), m.predict_quantiles(x))
    # hparams.json written by the foundation (before this fields) still loads
    old = {"n_inputs": 3, "horizon": 2, "hidden_size": 8, "num_layers": 2, "dropout": 0.1,
           "loss": "huber", "learning_rate": 1e-3, "optimizer": "adamw", "weight_decay": 1e-4,
           "plateau_patience": 2}
    assert LSTMForecaster(**old).predict_last(x).shape == (4, 2)


def test_layer_groups_name_each_lstm_layer_and_the_head():
    m = LSTMForecaster(3, 2, hidden_size=8, num_layers=3)
    groups = m.layer_groups()
    assert list(groups) == ["lstm.l0", "lstm.l1", "lstm.l2", "head"]
    assert sum(len(v) for v in groups.values()) == len(list(m.parameters()))


def test_config_refuses_quantiles_without_median(tmp_path):
    raw = small_config_dict(tmp_path / "x.csv", tmp_path)
    raw["model"].update(loss="quantile", quantiles=[0.1, 0.9])
    with pytest.raises(ConfigError, match=r"model\.quantiles"):
        build_config(raw)


@pytest.mark.filterwarnings("ignore:You defined a `validation_step`")
@pytest.mark.filterwarnings("ignore:`training_step` returned `None`")
def test_the_recorded_training_loss_is_the_batch_weighted_mean_of_the_epoch():
    """The module sums its step losses and logs them once an epoch (self.log on every step
    cost a tenth of a small batch's step): the recorder, which runs before that log, still
    gets this epoch's batch-size-weighted mean, and an epoch without a finite step records
    none rather than the last epoch's."""
    import pytorch_lightning as pl

    from models.callbacks import HistoryRecorder

    class Steps(pl.Callback):
        def __init__(self):
            self.seen: list[list[tuple[float, int]]] = []

        def on_train_epoch_start(self, trainer, pl_module):
            self.seen.append([])

        def on_train_batch_end(self, trainer, pl_module, outputs, b, batch_idx):
            if outputs:
                self.seen[-1].append((float(outputs["loss"]), b[0].shape[0]))

    x, y, ok = batch(b=10, seed=1)
    data = [(x[:6], y[:6], ok[:6]), (x[6:], y[6:], ok[6:])]  # batches of 6 and 4 windows
    bad = [(torch.full_like(x[:3], float("nan")), y[:3], ok[:3])]

    class Epochs(torch.utils.data.IterableDataset):
        epoch = -1

        def __iter__(self):
            self.epoch += 1
            yield from (bad if self.epoch == 2 else data)

    torch.manual_seed(0)
    model = LSTMForecaster(3, 2, hidden_size=8, dropout=0.0, scheduler="none")
    recorder, steps = HistoryRecorder(), Steps()
    # Lightning's own argument (three passes over `Epochs`), not training.max_epochs
    trainer = pl.Trainer(max_epochs=3, callbacks=[recorder, steps], logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(model, torch.utils.data.DataLoader(Epochs(), batch_size=None))
    for row, seen in zip(recorder.epochs[:2], steps.seen[:2], strict=True):
        mean = sum(v * n for v, n in seen) / sum(n for _, n in seen)
        assert row["train_loss"] == pytest.approx(mean, rel=1e-6)
        assert row["train_loss_zero"] > 0
    assert recorder.epochs[2]["train_loss"] is None and recorder.epochs[2]["nonfinite_losses"] == 1
    assert trainer.callback_metrics["train_loss"] == pytest.approx(recorder.epochs[1]["train_loss"])


def test_the_highway_starts_as_no_change_reads_no_later_step_and_loads_into_lstmnet():
    """model.highway: zero-initialised (the first forecast is the LSTM's, bit for bit), its
    forecast from step t reads target inputs up to t only, and the plain-torch twin loads it."""
    from models.net import LSTMNet, init_weights

    x, _, _ = batch(length=12)
    plain = LSTMForecaster(3, 2, hidden_size=8, num_layers=1)
    road = LSTMForecaster(3, 2, hidden_size=8, num_layers=1, highway=5)
    for m in (plain, road):
        init_weights(m, torch.Generator().manual_seed(7))
        m.eval()  # no dropout draws
    assert torch.equal(plain(x), road(x))  # zero highway: the same network
    assert "highway.weight" in road.state_dict() and "highway.weight" not in plain.state_dict()
    assert list(road.layer_groups())[:2] == ["lstm.l0", "head"]  # input side first
    with torch.no_grad():
        road.highway.weight.normal_(generator=torch.Generator().manual_seed(1))
    out = road(x)  # [B, L, H, Q]
    late = x.clone()
    late[:, 7:] += 10.0  # every input after step 6 changed
    assert torch.equal(road(late)[:, :7], out[:, :7])  # no forecast up to step 6 moved
    assert not torch.equal(road(late)[:, 7:], out[:, 7:])
    # the highway reads exactly the last 5 target inputs: input 0 at steps 2..6 for step 6
    only = x.clone()
    only[:, :2, 0] += 5.0  # before the highway's window, and only the target input
    with torch.no_grad():
        road.head.weight.zero_()
        road.lstm.weight_ih_l0.zero_()
    assert torch.equal(road(only)[:, 6], road(x)[:, 6])
    net = LSTMNet(**json.loads(json.dumps(dict(road.hparams))))
    net.load_state_dict(road.state_dict())
    assert torch.equal(net.predict_quantiles(x), road.predict_quantiles(x))


def test_a_highway_longer_than_the_window_is_refused(tmp_path):
    raw = small_config_dict(tmp_path / "x.csv", tmp_path, model={"highway": 500})
    with pytest.raises(ConfigError, match=r"model.highway \(500\) must not exceed "
                       r"forecast.input_size"):
        build_config(raw)


def test_input_dropout_drops_whole_features_but_never_the_target_and_only_in_training():
    from models.net import LSTMNet, drop_inputs

    torch.manual_seed(0)
    x = torch.ones(200, 6, 4)  # [B, L, F]
    dropped = drop_inputs(x, 0.5, training=True)
    assert torch.equal(dropped[..., 0], x[..., 0])  # the target is never dropped
    per_window = dropped[..., 1:]
    assert torch.equal(per_window, per_window[:, :1].expand_as(per_window))  # same at every step
    zeroed = (per_window[:, 0] == 0).float().mean().item()
    assert 0.35 < zeroed < 0.65 and set(per_window.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(drop_inputs(x, 0.5, training=False), x)

    model = LSTMForecaster(n_inputs=4, horizon=3, hidden_size=8, num_layers=1, dropout=0.0,
                           input_dropout=0.5)
    xb = torch.randn(5, 12, 4)
    model.train()
    assert not torch.equal(model(xb), model(xb))  # a fresh mask each pass (no other dropout)
    twin = LSTMNet(**json.loads(json.dumps(dict(model.hparams))))
    twin.load_state_dict(model.state_dict())
    assert torch.equal(model.predict_last(xb), twin.predict_last(xb))  # none at forecast time
