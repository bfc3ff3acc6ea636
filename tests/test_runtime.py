"""Torch threads from the cores a run may use: explicit, OMP_NUM_THREADS, affinity / cgroup quota."""

from __future__ import annotations

import os

import pytest
import torch

from lstmflow.config import ConfigError, RuntimeConfig, build_config
from lstmflow.runtime import apply_torch_threads, torch_threads, usable_cores
from tests.conftest import small_config_dict


@pytest.fixture
def restore_threads(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_explicit_threads_win_over_everything(restore_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert torch_threads(RuntimeConfig(torch_threads=3), cores=16) == 3


@pytest.mark.parametrize(("cores", "runs", "expected"), [(16, 1, 16), (16, 2, 8), (16, 3, 5),
                                                         (2, 2, 1), (1, 4, 1)])
def test_auto_shares_the_usable_cores(restore_threads, cores, runs, expected):
    assert torch_threads(RuntimeConfig(concurrent_runs=runs), cores=cores) == expected


def test_auto_follows_omp_num_threads(restore_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert torch_threads(RuntimeConfig(), cores=16) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "0")  # not a usable count: ignored
    assert torch_threads(RuntimeConfig(concurrent_runs=1), cores=16) == 16


def test_usable_cores_reads_affinity_and_cgroup_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    assert usable_cores(cpu_max) == affinity
    cpu_max.write_text("50000 100000\n")  # half a core: still one
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text(f"{(affinity + 8) * 100000} 100000\n")  # quota above affinity: affinity
    assert usable_cores(cpu_max) == affinity
    assert usable_cores(tmp_path / "absent") == affinity


def test_bad_thread_counts_are_refused_naming_the_key():
    raw = {"data": {"path": "a", "timestamp_column": "t"}}
    for key, value in (("torch_threads", -1), ("torch_threads", 257), ("concurrent_runs", 0)):
        with pytest.raises(ConfigError, match=f"config key 'runtime.{key}'"):
            build_config({**raw, "runtime": {key: value}})


def test_every_training_applies_the_setting(restore_threads, sample_slice, tmp_path):
    from lstmflow.data.ingest import ingest
    from lstmflow.data.prepare import prepare
    from lstmflow.data.split import split_bounds
    from lstmflow.fit.train import train_model

    raw = small_config_dict(sample_slice, tmp_path, runtime={"torch_threads": 1})
    raw["training"].update(max_steps=1, val_check_steps=1)  # one step of 64 windows
    cfg = build_config(raw)
    frame = ingest(cfg.data).frame
    arrays = prepare(frame, split_bounds(frame, 60, 30), cfg).arrays
    torch.set_num_threads(2)
    train_model(arrays, cfg)
    assert torch.get_num_threads() == 1
    assert apply_torch_threads(RuntimeConfig(torch_threads=2)) == 2 == torch.get_num_threads()
