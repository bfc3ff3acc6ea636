"""Crash-safe writes in one process: temp beside the target, nothing partial under the real
name, leftovers only under hidden temp names, a truncated checkpoint refused by name."""

from __future__ import annotations

import os
import stat

import pytest
import torch

from lstmflow.durable import new_folder, publish, sweep, write_atomic, write_json
from lstmflow.fit.checkpoint import AtomicCheckpointIO, checkpoint_epochs
from lstmflow.runs import TrainingError


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "summary.json"
    write_json(target, {"v": 1})

    def half_then_fail(f):
        f.write(b'{"v": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, half_then_fail)
    assert target.read_text() == '{\n  "v": 1\n}'
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_files_get_the_usual_permissions_not_the_temp_files_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "x.json", {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_checkpoint_temp_file_is_beside_the_target_whatever_tmpdir_says(tmp_path, monkeypatch):
    """Lightning's own write goes through the system temp folder and shutil.move: a copy when that
    folder is on another filesystem. Ours renames within the checkpoint folder."""
    elsewhere = tmp_path / "system-tmp"
    elsewhere.mkdir()
    monkeypatch.setenv("TMPDIR", str(elsewhere))
    moves = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (moves.append((a, b)), real(a, b))[1])
    target = tmp_path / "checkpoints" / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"epoch": 4, "w": torch.ones(3)}, target)
    assert [(os.path.dirname(a), str(b)) for a, b in moves] == [(str(target.parent), str(target))]
    assert list(elsewhere.iterdir()) == []
    assert checkpoint_epochs(target) == 5


def test_a_truncated_checkpoint_is_refused_by_name(tmp_path):
    target = tmp_path / "last.ckpt"
    torch.save({"epoch": 1, "w": torch.ones(1000)}, target)
    target.write_bytes(target.read_bytes()[:500])
    with pytest.raises(TrainingError, match=r"cannot resume: checkpoint '.*last\.ckpt' is truncated "
                                            r"or corrupt \(.*\); start a new run instead"):
        checkpoint_epochs(target)


def test_a_published_folder_is_never_replaced_and_sweep_takes_only_temps(tmp_path):
    first = new_folder(tmp_path, "v1")
    (first / "a.json").write_text("1")
    publish(first, tmp_path / "v1", "version")
    second = new_folder(tmp_path, "v1")
    (second / "a.json").write_text("2")
    with pytest.raises(FileExistsError):
        publish(second, tmp_path / "v1", "version")
    assert (tmp_path / "v1" / "a.json").read_text() == "1"
    (tmp_path / ".lock").write_text("")
    assert sweep(tmp_path) == [second.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "v1"]
