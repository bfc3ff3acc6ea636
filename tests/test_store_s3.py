"""`output_dir: s3://...`: the registry on a real S3 endpoint (moto's server over HTTP, no mock
of s3fs or of lstmflow.store), pulled into and pushed from each machine's mirror.

"Machines" are processes with their own working directory and mirror (LSTMFLOW_CACHE_DIR)
sharing only the bucket and the session's Prefect API (tests/crashkit.py)."""

from __future__ import annotations

import hashlib
import json
import re

import pandas as pd
import pytest
import yaml

from lstmflow.serve.history import read_history
from lstmflow.serve.registry import champion, load_version, version_dir, version_names
from lstmflow.store.location import CACHE_ENV, local_dir
from lstmflow.store.remote import RemoteRegistry
from lstmflow.store.shared import open_registry, shared_registry
from tests.conftest import register_version, small_config_dict
from tests.crashkit import KILLED
from tests.s3kit import make_bucket, s3_endpoint


@pytest.fixture(scope="module")
def s3():
    with s3_endpoint() as env:
        yield env


@pytest.fixture
def store(s3, monkeypatch, tmp_path, request):
    """A fresh bucket and this process's own mirror; yields the bucket's URL."""
    digest = hashlib.sha256(request.node.name.encode()).hexdigest()[:8]
    bucket = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-") + "-" + digest
    make_bucket(s3, bucket)
    for k, v in s3.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "test-machine"))
    return f"s3://{bucket}/team"


def _machine(tmp_path, s3, name: str) -> tuple:
    """A working directory and the environment of one more 'machine'."""
    home = tmp_path / name
    home.mkdir()
    return home, {**s3, CACHE_ENV: str(home / "cache"), "PREFECT_HOME": str(home / "prefect")}


def test_a_version_exists_on_the_store_from_its_manifest_on(store, sample_slice, tmp_path,
                                                            monkeypatch):
    from lstmflow.config import build_config

    cfg = build_config(small_config_dict(sample_slice, store, registry={"promote": "always"},
                                         name="s3"))
    with shared_registry(cfg.output_dir, cfg.name, write=True) as root:
        register_version(cfg, "v1", seed=1)
    assert root == local_dir(store) / "registry" / "s3" and root.is_relative_to(tmp_path)
    remote = RemoteRegistry(store, "s3")
    assert set(remote.committed()) == {"v1"}
    assert json.loads(remote.read_champion())["version"] == "v1"
    # an upload a killed writer left: every file but the manifest
    for name in ("model.safetensors", "hparams.json"):
        remote.fs.put_file(str(version_dir(root, "v1") / name), remote.key("versions", "v2", name))
    assert set(remote.committed()) == {"v1"}  # invisible to every reader
    # another machine (a fresh mirror) sees v1 alone, verified
    other = tmp_path / "other"
    monkeypatch.setenv(CACHE_ENV, str(other))
    root2 = open_registry(store, "s3")
    assert root2.is_relative_to(other) and version_names(root2) == ["v1"]
    assert champion(root2)["version"] == "v1"
    load_version(version_dir(root2, "v1"))
    assert [e["action"] for e in read_history(root2)] == ["register"]
    assert remote.sweep(max_age_s=3600) == []  # too young: it may be an upload under way
    assert remote.sweep(max_age_s=0) == ["v2"]
    assert not remote.fs.exists(remote.key("versions", "v2"))


def test_a_changed_object_on_the_store_is_refused_by_name(store, sample_slice, tmp_path,
                                                         monkeypatch):
    from lstmflow.config import build_config
    from lstmflow.serve.manifest import IntegrityError

    cfg = build_config(small_config_dict(sample_slice, store, registry={"promote": "always"},
                                         name="s3"))
    with shared_registry(cfg.output_dir, cfg.name, write=True):
        register_version(cfg, "v1", seed=1)
    remote = RemoteRegistry(store, "s3")
    remote.fs.pipe_file(remote.key("versions", "v1", "state.json"), b"{}")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "fresh"))
    with pytest.raises(IntegrityError, match=rf"model version '{store}/registry/s3/versions/v1': "
                       r"file 'state.json' has 2 bytes"):
        open_registry(store, "s3", only_champion=True)
    assert version_names(local_dir(store) / "registry" / "s3") == []  # nothing half kept
    # a full pull (a registration) leaves a damaged version out, said, not fatal: the damaged
    # champion is then judged as a local one is (not re-scored; decided on the baselines)
    with shared_registry(cfg.output_dir, cfg.name, write=True):
        register_version(cfg, "v2", seed=2)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "fresher"))
    root = open_registry(store, "s3")
    assert version_names(root) == ["v2"] and champion(root)["version"] == "v2"


def _config(tmp_path, sample_slice, store, **extra) -> str:
    raw = small_config_dict(sample_slice, store, name="fleet", quality={"enabled": False},
                            registry={"promote": "always", "skip_unchanged": False, **extra})
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path)


def test_two_machines_train_at_once_then_a_third_predicts(cli_runner, store, s3, sample_slice,
                                                          tmp_path, monkeypatch):
    """Both versions listed, one champion, both history lines, every manifest verified, under
    the Prefect global concurrency limit; a machine that never trained forecasts with it."""
    config = _config(tmp_path, sample_slice, store)
    runs = []
    for name in ("machine-a", "machine-b"):
        cwd, env = _machine(tmp_path, s3, name)
        runs.append(cli_runner.start(["train", "--config", config], env, cwd))
    for p, _ in runs:
        p.join(300)
    logs = [out.read_text() for _, out in runs]
    assert [p.exitcode for p, _ in runs] == [0, 0], "\n".join(x[-3000:] for x in logs)
    assert all("registry write under the Prefect global concurrency limit 'lstmflow-registry-"
               "fleet-" in x for x in logs), logs[0][-3000:]
    ids = sorted(re.search(r"lstmflow: run (\S+) -> ", x).group(1) for x in logs)

    remote = RemoteRegistry(store, "fleet")
    assert sorted(remote.committed()) == ids
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "auditor"))
    root = open_registry(store, "fleet")
    for v in ids:
        load_version(version_dir(root, v))  # every file against its manifest
    history = read_history(root)
    assert sorted(e["version"] for e in history if e["action"] == "register") == ids
    pointer = champion(root)
    second = next(e for e in history if e["champion_before"] is not None)
    assert pointer["version"] == second["version"]  # the later one, decided against the first
    assert second["champion_before"] == next(v for v in ids if v != second["version"])

    cwd, env = _machine(tmp_path, s3, "machine-c")
    rc, log = cli_runner.run(["predict", "--config", config], env, cwd=cwd)
    assert rc == 0, log[-3000:]
    rc, elsewhere = cli_runner.run(["predict", "--config", config, "--out",  # (a user's file)
                                    str(cwd / "mine.parquet")], env, cwd=cwd)
    assert rc == 0 and (cwd / "mine.parquet").is_file(), elsewhere[-3000:]
    mirror = next((cwd / "cache" / "stores").iterdir()) / "registry" / "fleet"
    assert version_names(mirror) == [pointer["version"]]  # predict fetched the champion alone
    # the runs' folders and the prediction's, on the store for the team to read
    for run_id in ids:
        summary = json.loads(remote.fs.cat_file(f"{store[5:]}/runs/{run_id}/summary.json"))
        assert summary["status"] == "completed" and summary["run_id"] == run_id
        assert remote.fs.exists(f"{store[5:]}/runs/{run_id}/report.html")
    # the registry commands from that machine: list, then a rollback the store keeps
    rc, listed = cli_runner.run(["registry", "list", "--output-dir", store], env, cwd=cwd)
    assert rc == 0 and all(v in listed for v in ids) and "2 version(s)" in listed, listed[-2000:]
    rc, said = cli_runner.run(["registry", "rollback", "--config", config, "--reason", "drill"],
                              env, cwd=cwd)
    assert rc == 0, said[-2000:]
    earlier = next(v for v in ids if v != pointer["version"])
    assert json.loads(remote.read_champion())["version"] == earlier
    assert json.loads(remote.fs.cat_file(sorted(remote.fs.glob(remote.key("history", "*")))[-1])
                      )["action"] == "rollback"
    served = remote.fs.glob(f"{store[5:]}/predictions/fleet/*/forecasts.parquet")
    assert len(served) == 2 and "prediction folder copied to s3://" in log, log[-3000:]
    with remote.fs.open(served[0], "rb") as f:
        assert set(pd.read_parquet(f)["model_version"]) == {pointer["version"]}


UPLOAD_KILLS = ["upload:first", "upload:half", "upload:manifest"]


@pytest.mark.parametrize("point", UPLOAD_KILLS)
def test_a_kill_during_the_upload_leaves_no_visible_version(cli_runner, store, s3, sample_slice,
                                                            tmp_path, monkeypatch, point):
    """SIGKILL after the first object, half-way, before the manifest: the store lists no new
    version and keeps its champion; `--resume` on that machine completes and uploads it whole.
    (registry.lock 'file': a killed holder of the test server's concurrency slot would keep it,
    that server runs no lease repossessor; the upload is what is tested here.)"""
    from lstmflow.crash import AT

    config = _config(tmp_path, sample_slice, store, lock="file")
    cwd, env = _machine(tmp_path, s3, "machine-a")
    rc, log = cli_runner.run(["train", "--config", config], env, cwd=cwd)
    assert rc == 0, log[-3000:]
    first = re.search(r"lstmflow: run (\S+) -> ", log).group(1)
    rc, log = cli_runner.run(["train", "--config", config], {**env, AT: point}, cwd=cwd)
    assert rc == KILLED, f"{point} never reached (exit {rc}):\n{log[-3000:]}"
    killed = re.search(r"lstmflow: run (\S+) -> ", log).group(1)

    remote = RemoteRegistry(store, "fleet")
    left = sorted(remote.fs.ls(remote.key("versions", killed), detail=False))
    assert left and not any(k.endswith("manifest.json") for k in left)  # a partial upload...
    assert sorted(remote.committed()) == [first]  # ...that no reader sees
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "reader"))
    root = open_registry(store, "fleet")
    assert version_names(root) == [first] and champion(root)["version"] == first

    rc, log = cli_runner.run(["train", "--config", config, "--resume", killed], env, cwd=cwd)
    assert rc == 0, log[-3000:]
    assert sorted(remote.committed()) == sorted([first, killed])
    root = open_registry(store, "fleet")
    load_version(version_dir(root, killed))
    assert champion(root)["version"] == killed
    assert [e["version"] for e in read_history(root)] == [first, killed]
    row = (f"| {point} (s3://) | {len(left)} object(s) of version {killed} without a "
           "manifest: not listed, champion the old one | --resume: uploaded whole, champion |")
    with open(tmp_path.parent / "s3-kill-table.md", "a", encoding="utf-8") as f:
        f.write(row + "\n")


def test_a_backtest_on_a_store_keeps_its_results_there(cli_runner, store, s3, sample_slice,
                                                       tmp_path):
    """Backtest (and tune) run folders are copied to the store like training runs'."""
    config = _config(tmp_path, sample_slice, store)
    cwd, env = _machine(tmp_path, s3, "machine-a")
    rc, log = cli_runner.run(["backtest", "--config", config, "--set", "backtest.folds=2",
                              "--set", "runtime.workers=1"], env, cwd=cwd)
    assert rc == 0, log[-3000:]
    remote = RemoteRegistry(store, "fleet")
    found = remote.fs.glob(f"{store[5:]}/runs/*/backtest.json")
    assert len(found) == 1, log[-3000:]
    record = json.loads(remote.fs.cat_file(found[0]))
    assert record["status"] == "completed" and len(record["folds"]) == 2
    assert remote.fs.exists(found[0].replace("backtest.json", "backtest.html"))


def test_an_empty_store_registry_is_named_by_its_url(store, sample_slice, tmp_path):
    """predict on a store with no champion names the store's registry, not this machine's
    mirror."""
    from lstmflow.config import build_config
    from lstmflow.serve.manifest import RegistryError
    from lstmflow.serve.predict import champion_for

    cfg = build_config(small_config_dict(sample_slice, store, name="empty"))
    with pytest.raises(RegistryError, match=rf"^registry '{store}/registry/empty' has no champion"):
        champion_for(cfg)
