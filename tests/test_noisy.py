"""noisy_optimisation reads the recorded gradient signal and the val curve's jumps, never the
batch size or learning rate of the config; and the recorder's grad_signal is what it says."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmflow.fit.diagnosis import diagnose
from lstmflow.fit.diagnosis.noise import jitter
from models.callbacks import HistoryRecorder

JUMPY = [0.50, 0.44, 0.47, 0.41, 0.45, 0.40, 0.44, 0.41]  # jumps ~6% off its neighbours' line
SMOOTH = [0.50, 0.46, 0.43, 0.41, 0.40, 0.395, 0.392, 0.391]


def _history(val, signal, travel=0.05) -> list[dict]:
    n = len(val)
    return [{"epoch": i, "step": 50 * (i + 1), "train_loss": 0.4, "val_loss": val[i],
             "grad_signal": signal, "weight_change": travel} for i in range(n)]


def _noisy(val, signal, cfg=None, travel=0.05):
    found = diagnose(_history(val, signal, travel),
                     config=cfg or {"training": {"max_steps": 400}})
    return next((f for f in found if f["finding"] == "noisy_optimisation"), None)


def test_jumps_with_a_noisy_gradient_are_named_with_both_numbers():
    cfg = {"training": {"batch_size": 4, "learning_rate": 0.03, "max_steps": 400,
                        "val_check_steps": 50}}
    f = _noisy(JUMPY, 0.05, cfg)
    assert f is not None and f["severity"] == "warning"
    assert "the val loss jumps 10% off the line through its neighbours (median over 8 checks); " \
        "consecutive steps' gradients share only 5% of their squared norm (the noise of a " \
        "batch is about 19x its signal)" in f["evidence"], f["evidence"]
    # 19 / (1 / 0.2 - 1) = 4.75: batch x 5, rate halved, checks twice as long
    assert f["remedy"]["overrides"] == ["training.batch_size=20", "training.learning_rate=0.015",
                                        "training.val_check_steps=100"]


def test_weights_wandering_on_a_noisy_gradient_are_named_on_a_smooth_curve():
    """Batch 1 at a high rate can leave the val loss smooth and stuck while the weights take a
    random walk: the gradient's noise and the weights' travel name it together."""
    f = _noisy(SMOOTH, 0.05, travel=0.5)
    assert f["evidence"].startswith("the weights move 50% of their norm in a validation period "
                                    "(median over 8 checks); consecutive steps' gradients share "
                                    "only 5%"), f["evidence"]
    assert _noisy(SMOOTH, 0.05, travel=0.1) is None  # the weights settle
    assert _noisy(SMOOTH, 0.3, travel=0.5) is None  # a clean gradient moving far: learning


def test_jumps_with_a_clean_gradient_are_steps_too_long():
    cfg = {"training": {"batch_size": 16, "learning_rate": 0.03}}
    f = _noisy(JUMPY, 0.5, cfg)
    assert "share 50% of their squared norm, so the steps are too long" in f["evidence"]
    assert f["remedy"]["overrides"] == ["training.batch_size=32", "training.learning_rate=0.009"]
    old = _noisy(JUMPY, None, cfg)  # a record from before grad_signal: the jumps alone
    assert old["evidence"].endswith("(median over 8 checks)")


@pytest.mark.parametrize(("val", "signal"), [(SMOOTH, 0.05), (JUMPY[:4], 0.05)],
                         ids=["smooth-val", "too-few-checks"])
def test_not_named_on_a_smooth_curve_or_too_few_checks(val, signal):
    assert _noisy(val, signal) is None


def test_the_config_is_not_read():
    """The same curves with a config saying batch 4096 and a tiny rate: still named."""
    big = {"training": {"batch_size": 4096, "learning_rate": 1e-5}}
    assert _noisy(JUMPY, 0.05, big) is not None
    assert _noisy(SMOOTH, 0.05, {"training": {"batch_size": 1, "learning_rate": 1.0}}) is None


def test_jitter_ignores_a_trend():
    assert jitter(np.array([1.0, 0.9, 0.81, 0.729, 0.6561])) == pytest.approx(0.0, abs=1e-12)
    assert jitter(np.array([1.0, 1.1, 1.0, 1.1, 1.0])) == pytest.approx(np.log(1.1), rel=1e-9)


class _Params(torch.nn.Module):
    """A module with one parameter whose gradient the test sets by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(3))

    def layer_groups(self):
        return {"w": [self.w]}


def _signal(grads: list[list[float]]) -> float | None:
    rec, mod = HistoryRecorder(), _Params()
    rec.on_fit_start(None, mod)
    rec._reset()
    for g in grads:
        mod.w.grad = torch.tensor(g)
        rec.on_before_optimizer_step(None, mod, None)
    return rec._grad_signal()


def test_grad_signal_is_the_consecutive_steps_shared_share():
    same = [[1.0, 2.0, 2.0]] * 6
    assert _signal(same) == pytest.approx(1.0)
    flip = [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]] * 3  # overshooting back and forth
    assert _signal(flip) == pytest.approx(-1.0)
    rng = np.random.default_rng(0)  # signal 1 + noise of variance 9 per coordinate: 1 / 10
    noisy = (np.array([1.0, 1.0, 1.0]) + rng.normal(scale=3.0, size=(20000, 3))).tolist()
    assert _signal(noisy) == pytest.approx(0.1, abs=0.01)
    assert _signal(same[:4]) is None  # three pairs say nothing
