"""Registry writes across machines: with `registry.lock: prefect` and a Prefect API configured,
promotion holds a global concurrency limit of one slot named after the registry (created on
first use); a second promoter in another process waits for it, then completes. Otherwise the
file lock alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from lstmflow.config import build_config
from lstmflow.serve.registry import champion, registry_dir
from tasks.locks import LEASE_S, api_configured, limit_name, registry_slot
from tests.conftest import ROOT, register_version, small_config_dict


@pytest.fixture
def registry(sample_slice, tmp_path):
    raw = small_config_dict(sample_slice, tmp_path / "out",
                            registry={"promote": "always", "lock": "prefect"}, name="gcl")
    cfg = build_config(raw)
    for version, seed in (("v1", 1), ("v2", 2)):
        register_version(cfg, version, seed=seed)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return cfg, path


def test_a_second_promoter_waits_for_the_slot_then_promotes(prefect_harness, registry, tmp_path):
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    cfg, config = registry
    root = registry_dir(cfg.output_dir, cfg.name)
    assert api_configured() and champion(root)["version"] == "v2"
    held, release, released_at = threading.Event(), threading.Event(), []

    def first_promoter() -> None:  # another machine's promotion, in progress
        with registry_slot(root, "prefect"):
            held.set()
            release.wait(60)
            released_at.append(time.time())

    holder = threading.Thread(target=first_promoter)
    holder.start()
    assert held.wait(30)
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(limit_name(root))
    assert (limit.limit, limit.active, limit.active_slots) == (1, True, 1)
    # a second "machine": its own process and working directory, the same server and registry
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(),
           "PYTHONPATH": str(ROOT)}
    second = subprocess.Popen(
        [sys.executable, "-m", "lstmflow.cli", "registry", "promote", "v1", "--config",
         str(config), "--reason", "from the second machine"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(12)  # its start-up (~4 s) and then waiting
        assert second.poll() is None, second.communicate()
        assert champion(root)["version"] == "v2"  # nothing interleaved
    finally:
        release.set()
        holder.join(30)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "champion is now v1 (was v2)" in out
    pointer = champion(root)
    assert pointer["version"] == "v1"
    assert pointer["event"]["at"] >= time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.gmtime(released_at[0] - 1))
    lines = [json.loads(x) for x in (root / "history.jsonl").read_text().splitlines()]
    assert [e["reason"] for e in lines].count("from the second machine") == 1
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(limit_name(root)).active_slots == 0
    assert limit_name(root).startswith("lstmflow-registry-gcl-")
    assert limit_name(root) != limit_name(tmp_path / "elsewhere" / "gcl")  # another registry


def test_without_an_api_only_the_file_lock_is_used(monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: None}):
        assert not api_configured()
        with registry_slot(Path("no-api"), "prefect") as guard:
            assert guard == "file lock"
    with registry_slot(Path("default"), "file") as guard:  # the default, API or not
        assert guard == "file lock"
    assert LEASE_S == 60.0  # the documented time a dead holder keeps the slot
