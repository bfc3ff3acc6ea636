"""Kill a real fit midway, resume it from the run folder's checkpoint, get the same result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from lstmflow.config import ConfigError, build_config
from lstmflow.data.ingest import ingest, save_snapshot
from lstmflow.fit.origins import predict_origins
from lstmflow.fit.train import train_model
from lstmflow.runs import (
    TrainingError,
    checkpoint_path,
    resume_config,
    run_folder,
    save_run_config,
)
from tests.conftest import ROOT, small_config_dict
from tests.test_train import prepared_for


class Killed(RuntimeError):
    """Stands in for a kill: raised inside trainer.fit."""


class KillAt(pl.Callback):
    """Raise when epoch `epoch` (0-based) starts, i.e. after `epoch` epochs are checkpointed."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            raise Killed(f"killed at the start of epoch {self.epoch}")


class EpochsSeen(pl.Callback):
    """Which epochs this fit actually ran."""

    def __init__(self) -> None:
        self.started: list[int] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.started.append(trainer.current_epoch)


@pytest.fixture(scope="module")
def setup(sample_slice, tmp_path_factory):
    raw = small_config_dict(sample_slice, tmp_path_factory.mktemp("out"))
    raw["training"].update(max_steps=16, patience=10)  # 4 checks of 4 steps (Lightning epochs)
    cfg = build_config(raw)
    return cfg, prepared_for(cfg).arrays


def kill_after_two_epochs(cfg, arrays, run_dir: Path) -> None:
    with pytest.raises(Killed):
        train_model(arrays, cfg, run_dir=run_dir, extra_callbacks=[KillAt(2)])


def test_killed_fit_resumes_where_it_stopped_and_matches_an_uninterrupted_one(setup, tmp_path):
    cfg, arrays = setup
    run_dir = tmp_path / "run"
    kill_after_two_epochs(cfg, arrays, run_dir)
    ckpt = torch.load(checkpoint_path(run_dir), map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 1  # two epochs (0, 1) done
    best_state = ckpt["callbacks"]["BestWeights"]
    assert best_state["best_epoch"] in (0, 1) and isinstance(best_state["state"], dict)
    assert len(ckpt["callbacks"]["HistoryRecorder"]["epochs"]) == 2

    seen = EpochsSeen()
    resumed = train_model(arrays, cfg, run_dir=run_dir, resume=True, extra_callbacks=[seen])
    assert seen.started == [2, 3]  # continued, not restarted
    assert resumed.resumed_from_epoch == 2 and resumed.epochs_run == 4
    assert [h["epoch"] for h in resumed.history] == [0, 1, 2, 3]

    whole = train_model(arrays, cfg)  # the same fit, never interrupted
    np.testing.assert_allclose([h["train_loss"] for h in resumed.history],
                               [h["train_loss"] for h in whole.history], rtol=1e-5)
    assert resumed.best_epoch == whole.best_epoch
    assert resumed.best_val_loss == pytest.approx(whole.best_val_loss, rel=1e-5)
    for k, v in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, rtol=1e-4, atol=1e-6)
    _, _, zhat = predict_origins(resumed.model, arrays, cfg, "test")
    assert len(zhat) and np.isfinite(zhat).all()


def test_resume_without_checkpoint_is_a_clear_error(setup, tmp_path):
    cfg, arrays = setup
    with pytest.raises(TrainingError, match="no checkpoint at"):
        train_model(arrays, cfg, run_dir=tmp_path / "never-ran", resume=True)
    with pytest.raises(TrainingError, match=r"run folder .* does not exist"):
        resume_config(tmp_path / "runs" / "nope")
    (tmp_path / "runs" / "half").mkdir(parents=True)
    save_run_config(cfg, tmp_path / "runs" / "half")
    (tmp_path / "runs" / "half" / "data.parquet").write_bytes(b"")
    with pytest.raises(TrainingError, match="first epoch"):
        resume_config(tmp_path / "runs" / "half")


@pytest.mark.parametrize("bad", ["..", "../x", "a/b", "", "x" * 81, "/abs"])
def test_run_id_must_be_one_path_component(bad, tmp_path):
    with pytest.raises(ConfigError, match="run_id"):
        run_folder(tmp_path, bad)


def killed_run(cfg, arrays, out: Path, run_id: str) -> Path:
    """A run folder as a killed flow leaves it: config, data snapshot, checkpoint of 2 epochs."""
    run_dir = out / "runs" / run_id
    save_snapshot(ingest(cfg.data).frame, run_dir / "data.parquet")
    save_run_config(cfg, run_dir)
    kill_after_two_epochs(cfg, arrays, run_dir)
    return run_dir


def test_resumed_flow_completes_the_same_run(prefect_harness, setup):
    from flows.training import train_flow

    cfg, arrays = setup
    out = Path(cfg.output_dir)
    run_dir = killed_run(cfg, arrays, out, "killed")
    again = resume_config(run_dir)
    assert again.data.path == str(run_dir / "data.parquet")
    assert again.model == cfg.model and again.training == cfg.training
    # As the UI or a deployment would: the original config; the flow takes the run's own.
    state = train_flow(cfg, run_id="killed", resume=True, return_state=True)
    assert state.is_completed(), state.message
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["training"]["resumed_from_epoch"] == 2
    assert summary["training"]["epochs_run"] == 4
    assert [h["epoch"] for h in json.loads((run_dir / "history.json").read_text())] == [0, 1, 2, 3]
    assert (run_dir / "history.csv").is_file()
    assert summary["metrics"]["model"]["mae"] > 0
    assert (out / "registry" / "test" / "versions" / "killed" / "model.safetensors").is_file()


def test_cli_resume_refuses_missing_run_and_traversal(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(f"name: t\ndata: {{path: x.csv, timestamp_column: d}}\n"
                        f"output_dir: {tmp_path / 'out'}\n")
    for run_id, msg in (("nope", "does not exist"), ("..", "must be one path component")):
        r = subprocess.run(
            [sys.executable, "-m", "lstmflow.cli", "train", "--config", str(cfg_file),
             "--resume", run_id], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr


def test_resume_with_a_different_model_is_refused(setup, tmp_path):
    cfg, arrays = setup
    kill_after_two_epochs(cfg, arrays, tmp_path / "run")
    raw = cfg.model_dump(mode="json")
    raw["model"]["hidden_size"] = 32
    with pytest.raises(TrainingError, match="does not fit the model"):
        train_model(arrays, build_config(raw), run_dir=tmp_path / "run", resume=True)


def test_resume_config_follows_the_target_rename(setup, tmp_path):
    """Quality keys naming the target by its file name still name it in the canonical snapshot,
    and the run cannot be moved to another output_dir while resuming."""
    cfg, arrays = setup
    raw = cfg.model_dump(mode="json")
    raw["quality"]["bounds"] = {"Adj Close": {"min": 0, "strict": True}}
    raw["quality"]["jump_columns"] = ["Adj Close"]
    cfg = build_config(raw)
    run_dir = killed_run(cfg, arrays, tmp_path / "out", "r1")
    again = resume_config(run_dir)
    assert set(again.quality.bounds) == {"target"} and again.quality.jump_columns == ["target"]
    with pytest.raises(ConfigError, match="output_dir cannot change"):
        resume_config(run_dir, [f"output_dir={tmp_path / 'elsewhere'}"])


def test_a_checkpoint_from_before_segments_resumes_step_by_step(setup, tmp_path):
    """A run killed under an lstmflow without model.segment_len (its checkpoint's network reads
    one step at a time, its config has no key) resumes with that network, not the new default."""
    from lstmflow.durable import write_atomic
    from lstmflow.fit.model import segment_len

    cfg, arrays = setup
    assert segment_len(cfg) > 1  # the default for this window is segments
    raw = cfg.model_dump(mode="json")
    raw["model"]["segment_len"] = 1
    kill_after_two_epochs(build_config(raw), arrays, tmp_path / "run")
    path = checkpoint_path(tmp_path / "run")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    del ckpt["hyper_parameters"]["segment_len"]  # as the older version wrote it
    write_atomic(path, lambda f: torch.save(ckpt, f))
    resumed = train_model(arrays, cfg, run_dir=tmp_path / "run", resume=True)
    assert resumed.model.segment_len == 1 and resumed.epochs_run == 4
