"""Registry: version folders written atomically with a manifest that every load verifies, no
pickle, champion pointer swapped atomically, promote/rollback by hand with their history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from lstmflow.serve.actions import promote_version, rollback, statuses, unchanged
from lstmflow.serve.history import HISTORY, event, read_history, reconcile
from lstmflow.serve.manifest import MANIFEST, canonical_sha256, effective_config
from lstmflow.serve.registry import (
    IntegrityError,
    RegistryError,
    champion,
    load_version,
    save_version,
    set_champion,
)
from models.lstm import LSTMForecaster

FILES = ["hparams.json", MANIFEST, "model.safetensors", "state.json"]


def _model(quantile: bool = False):
    torch.manual_seed(0)
    return LSTMForecaster(n_inputs=3, horizon=2, hidden_size=4, num_layers=1,
                          loss="quantile" if quantile else "huber")


def _record(status: str = "champion", fingerprint: str = "f" * 16, config=None) -> dict:
    config = config or {"name": "x", "data": {"path": "a.csv"}, "runtime": {"torch_threads": 1}}
    return {"config": config, "metrics": {"overall": {}}, "data": {"fingerprint": fingerprint},
            "effective_config_sha256": canonical_sha256(effective_config(config)),
            "decision": {"status": status, "reason": f"{status} for the test"}}


def _save(root: Path, name: str, status: str = "champion", quantile: bool = False) -> Path:
    return save_version(root, name, _model(quantile), {"scalers": {}}, _record(status))


def _champion(root: Path, name: str) -> None:
    """Make `name` champion the way registration does (pointer, then its history line)."""
    from lstmflow.serve.history import append

    old = champion(root)
    line = event("register", name, "test", status="champion", **{"from": old and old["version"]})
    set_champion(root, name, line, [*old["previous"], old["version"]] if old else [])
    append(root, line)


@pytest.mark.parametrize("quantile", [False, True])
def test_save_and_load_round_trip_without_lightning(tmp_path, quantile):
    """The plain-torch network loads the Lightning module's weights and forecasts the same."""
    m = _model(quantile)
    path = save_version(tmp_path, "v1", m, {"scalers": {}}, _record())
    version = load_version(path)
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(version.model(x), m.eval()(x))
    torch.testing.assert_close(version.model.predict_quantiles(x), m.predict_quantiles(x))
    assert type(version.model).__module__ == "models.net"
    assert version.state == {"scalers": {}} and version.config["name"] == "x"
    assert sorted(p.name for p in path.iterdir()) == FILES
    files = version.manifest["files"]
    assert set(files) == set(FILES) - {MANIFEST}
    assert files["model.safetensors"]["size"] == (path / "model.safetensors").stat().st_size
    assert not list(tmp_path.glob("versions/.*"))  # no temp folder left behind


def test_existing_version_is_not_overwritten(tmp_path):
    _save(tmp_path, "v1")
    with pytest.raises(RegistryError, match="already exists"):
        _save(tmp_path, "v1")


def test_failed_save_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        save_version(tmp_path, "v2", _model(), {1: "a", "b": 2}, _record())  # unsortable keys
    assert not (tmp_path / "versions" / "v2").exists()
    assert list((tmp_path / "versions").iterdir()) == []


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", FILES)
def test_one_flipped_byte_is_refused_by_file_name(tmp_path, name):
    path = _save(tmp_path, "v1")
    target = path / name
    _flip(target, target.stat().st_size // 2)
    with pytest.raises(IntegrityError) as err:
        load_version(path)
    assert f"file '{name}'" in str(err.value) and "refused" in str(err.value)


def test_every_byte_of_the_manifest_is_covered(tmp_path):
    """A flipped bit anywhere in manifest.json is refused (bad JSON, or a digest mismatch)."""
    path = _save(tmp_path, "v1")
    original = (path / MANIFEST).read_bytes()
    for at in range(0, len(original), 7):
        _flip(path / MANIFEST, at)
        with pytest.raises(IntegrityError, match=f"file '{MANIFEST}'"):
            load_version(path)
        (path / MANIFEST).write_bytes(original)
    load_version(path)


def test_missing_extra_and_resized_files_are_refused(tmp_path):
    path = _save(tmp_path, "v1")
    (path / "notes.txt").write_text("added later")
    with pytest.raises(IntegrityError, match=r"file 'notes\.txt' is not in its manifest"):
        load_version(path)
    (path / "notes.txt").unlink()
    (path / "state.json").write_text((path / "state.json").read_text() + " ")
    with pytest.raises(IntegrityError, match=r"file 'state.json' has \d+ bytes, its manifest"):
        load_version(path)
    (path / "state.json").unlink()
    with pytest.raises(IntegrityError, match=r"file 'state\.json' is missing"):
        load_version(path)


def test_a_version_from_before_manifests_gets_a_clear_message(tmp_path):
    """The previous release wrote config.json, metrics.json and meta.json and no manifest."""
    old = tmp_path / "versions" / "old"
    old.mkdir(parents=True)
    for name in ("model.safetensors", "hparams.json", "state.json", "config.json", "meta.json"):
        (old / name).write_text("{}")
    with pytest.raises(IntegrityError, match=r"has no manifest\.json: it was written by an "
                       "lstmflow older than the manifest"):
        load_version(old)
    (tmp_path / "champion.json").write_text(json.dumps({"version": "old", "path": str(old)}))
    rows = statuses(tmp_path)
    assert [(r["version"], r["status"]) for r in rows] == [("old", "champion (damaged)")]
    assert unchanged(tmp_path, {}, "f" * 16) is None  # never a reason to skip training


def test_champion_pointer(tmp_path):
    assert champion(tmp_path) is None
    for v in ("v1", "v2"):
        _save(tmp_path, v)
    _champion(tmp_path, "v1")
    _champion(tmp_path, "v2")
    pointer = champion(tmp_path)
    assert pointer["version"] == "v2" and pointer["previous"] == ["v1"]
    assert pointer["manifest_sha256"] == load_version(tmp_path / "versions" / "v2").manifest[
        "manifest_sha256"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["champion.json", HISTORY, "versions"]
    with pytest.raises(RegistryError, match=r"'v3'.* does not exist"):
        set_champion(tmp_path, "v3", event("promote", "v3", "never written"), [])
    assert champion(tmp_path)["version"] == "v2"


def test_promote_and_rollback_by_hand_are_logged(tmp_path):
    for v, status in (("v1", "champion"), ("v2", "champion"), ("v3", "rejected")):
        _save(tmp_path, v, status)
    _champion(tmp_path, "v1")
    _champion(tmp_path, "v2")
    with pytest.raises(RegistryError, match=r"'v3' was rejected at registration \(rejected for "
                       r"the test\); promote it anyway with --force"):
        promote_version(tmp_path, "v3")
    assert champion(tmp_path)["version"] == "v2"
    promote_version(tmp_path, "v3", reason="a person knows better", force=True)
    assert champion(tmp_path)["previous"] == ["v1", "v2"]
    assert rollback(tmp_path)["version"] == "v2"
    assert rollback(tmp_path)["version"] == "v1"
    with pytest.raises(RegistryError, match="has no earlier champion recorded"):
        rollback(tmp_path)
    promote_version(tmp_path, "v3")  # once champion, no longer needs --force
    assert rollback(tmp_path, to="v1")["version"] == "v1"  # v1 -> v3 -> back to v1
    with pytest.raises(RegistryError, match="'v2' was never champion before 'v1'"):
        rollback(tmp_path, to="v2")
    history = read_history(tmp_path)
    assert [(e["action"], e["version"], e.get("from")) for e in history] == [
        ("register", "v1", None), ("register", "v2", "v1"), ("promote", "v3", "v2"),
        ("rollback", "v2", "v3"), ("rollback", "v1", "v2"), ("promote", "v3", "v1"),
        ("rollback", "v1", "v3")]
    assert all(e["by"] and e["at"] for e in history)
    assert history[2]["reason"] == "a person knows better"
    assert {r["version"]: r["status"] for r in statuses(tmp_path)} == {
        "v1": "champion", "v2": "candidate", "v3": "candidate"}


def test_refused_actions_change_nothing(tmp_path):
    _save(tmp_path, "v1")
    bad = _save(tmp_path, "v2")
    _champion(tmp_path, "v1")
    before = (tmp_path / "champion.json").read_bytes(), (tmp_path / HISTORY).read_bytes()
    _flip(bad / "model.safetensors", 100)
    with pytest.raises(IntegrityError, match=r"file 'model\.safetensors'"):
        promote_version(tmp_path, "v2")
    with pytest.raises(RegistryError, match="already the champion"):
        promote_version(tmp_path, "v1")
    assert ((tmp_path / "champion.json").read_bytes(), (tmp_path / HISTORY).read_bytes()) == before
    assert {r["version"]: r["status"] for r in statuses(tmp_path)} == {
        "v1": "champion", "v2": "damaged"}


def test_a_lost_history_line_is_recovered_from_the_pointer(tmp_path):
    """Killed between the pointer swap and the history append: the next writer appends it."""
    _save(tmp_path, "v1")
    _save(tmp_path, "v2")
    _champion(tmp_path, "v1")
    set_champion(tmp_path, "v2", event("promote", "v2", "lost", **{"from": "v1"}), ["v1"])
    assert [e["version"] for e in read_history(tmp_path)] == ["v1"]
    recovered = reconcile(tmp_path, champion(tmp_path))
    assert recovered["recovered"] is True and recovered["version"] == "v2"
    assert reconcile(tmp_path, champion(tmp_path)) is None  # once
    assert [e["version"] for e in read_history(tmp_path)] == ["v1", "v2"]


def test_unchanged_compares_fingerprint_and_effective_config(tmp_path):
    cfg = _record()["config"]
    _save(tmp_path, "v1")
    # no champion yet: the newest version was trained on this data and config (a retrain
    # would make the same model)
    assert "nothing changed since version v1" in unchanged(tmp_path, cfg, "f" * 16)
    _champion(tmp_path, "v1")
    assert "nothing changed since champion v1" in unchanged(tmp_path, cfg, "f" * 16)
    moved = {**cfg, "data": {"path": "elsewhere.csv"}, "runtime": {"torch_threads": 2},
             "output_dir": "other"}
    assert unchanged(tmp_path, moved, "f" * 16)  # where it runs and reads from does not count
    assert unchanged(tmp_path, cfg, "0" * 16) is None
    assert unchanged(tmp_path, {**cfg, "name": "y"}, "f" * 16) is None
    shutil.rmtree(tmp_path / "versions" / "v1")
    assert unchanged(tmp_path, cfg, "f" * 16) is None
