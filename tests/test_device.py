"""training.accelerator / training.precision: 'auto' is the CPU here, identical to before; a
GPU asked for on a machine without one is refused by key; the trained model ends on the CPU."""

from __future__ import annotations

import pytest
import torch

from lstmflow.config import build_config
from lstmflow.fit.device import resolve_device
from lstmflow.runs import TrainingError
from tests.conftest import small_config_dict


def cfg_with(tmp_path, **training):
    raw = small_config_dict(tmp_path / "x.csv", tmp_path / "out")
    raw["training"].update(training)
    return build_config(raw)


def test_auto_resolves_to_what_torch_sees(tmp_path):
    device = resolve_device(cfg_with(tmp_path))
    if torch.cuda.is_available():
        assert device.accelerator == "gpu" and device.precision.endswith("-mixed")
    else:
        assert (device.accelerator, device.precision) == ("cpu", "32-true")
    assert resolve_device(cfg_with(tmp_path, accelerator="cpu")).precision == "32-true"
    assert resolve_device(cfg_with(tmp_path, accelerator="cpu",
                                   precision="bf16-mixed")).precision == "bf16-mixed"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is there to train on")
def test_a_gpu_asked_for_without_one_is_refused_by_key(tmp_path):
    with pytest.raises(TrainingError, match=r"training\.accelerator is 'gpu'"):
        resolve_device(cfg_with(tmp_path, accelerator="gpu"))


def test_a_fit_records_its_device_and_leaves_the_model_on_the_cpu(sample_slice, tmp_path):
    from lstmflow.core import Forecaster
    from lstmflow.data.ingest import ingest

    cfg = build_config(small_config_dict(sample_slice, tmp_path / "out"))
    fit = Forecaster(cfg).fit(ingest(cfg.data).frame)
    device = resolve_device(cfg)
    assert fit.train.device == f"{device.accelerator} {device.precision}"
    assert all(p.device.type == "cpu" for p in fit.model.parameters())
