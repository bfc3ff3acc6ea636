"""Two runs on one output folder at once, as two scheduled deployments would start them: both
finish in their own run folders and leave one consistent registry; a run still alive cannot be
resumed. Real `lstmflow train` processes (tests/crashkit.py) on the session's Prefect API.

To make the overlap certain rather than likely, the test holds the registry lock itself while
both runs train: each reaches registration and waits on the lock, alive; then it lets go.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import yaml

from lstmflow.locks import registry_lock
from lstmflow.serve.history import read_history
from lstmflow.serve.registry import champion, load_version
from tests.conftest import small_config_dict


@pytest.fixture
def config(sample_slice, tmp_path) -> tuple[Path, Path]:
    raw = small_config_dict(sample_slice, tmp_path / "out")
    raw.update(name="conc", registry={"promote": "always", "skip_unchanged": False},
               quality={"enabled": False})
    raw["training"]["max_steps"] = 8  # two checks of 4 steps
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path, tmp_path / "out"


def _run_id(log: Path, deadline: float) -> str:
    """The id a child prints first ('lstmflow: run <id> -> <folder>')."""
    while time.monotonic() < deadline:
        found = re.search(r"lstmflow: (?:resuming )?run (\S+) -> ", log.read_text() if log.exists() else "")
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise TimeoutError(f"no run id in {log}")


def _wait_at_registry(procs, run_dirs: list[Path], deadline: float) -> None:
    """Until every run has trained (history.json written) and so waits on the registry lock."""
    while not all((d / "history.json").is_file() for d in run_dirs):
        assert all(p.is_alive() for p in procs), "a run ended before reaching the registry"
        assert time.monotonic() < deadline, "the runs did not reach the registry in time"
        time.sleep(0.1)
    time.sleep(0.5)  # from history.json to the lock: evaluation, a few milliseconds


def test_two_runs_on_one_output_dir_both_finish_with_one_consistent_champion(cli_runner, config):
    cfg, out = config
    root = out / "registry" / "conc"
    deadline = time.monotonic() + 240
    with registry_lock(root):
        started = [cli_runner.start(["train", "--config", str(cfg)]) for _ in range(2)]
        ids = [_run_id(log, deadline) for _, log in started]
        _wait_at_registry([p for p, _ in started], [out / "runs" / i for i in ids], deadline)
        assert all(p.is_alive() for p, _ in started)  # both wait for the lock
        assert not (root / "versions").exists()
    for p, log in started:
        p.join(120)
        assert p.exitcode == 0, log.read_text()[-3000:]
    assert len(set(ids)) == 2
    for i in ids:
        summary = json.loads((out / "runs" / i / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["promotion"]["promoted"] is True
    assert sorted(v.name for v in (root / "versions").iterdir()) == sorted(ids)  # no temp left
    pointer = champion(root)
    assert pointer["version"] in ids
    load_version(root / "versions" / pointer["version"])  # complete, every file hash-valid
    assert pointer["manifest_sha256"] == load_version(root / "versions" / pointer["version"]
                                                      ).manifest["manifest_sha256"]
    # the later swap decided against the earlier one's champion, read under the lock
    other = next(i for i in ids if i != pointer["version"])
    later = json.loads((out / "runs" / pointer["version"] / "summary.json").read_text())
    assert later["promotion"]["champion_before"]["version"] == other
    assert [e["version"] for e in read_history(root)] == [other, pointer["version"]]


def test_resuming_a_run_that_is_still_alive_is_refused(cli_runner, config):
    """Refused by the CLI and by the flow (as the UI or a deployment would start it). No capsys
    here: Prefect's console log handler would keep its stream, closed after the test."""
    from flows.training import train_flow
    from lstmflow.config import load_config

    cfg, out = config
    root = out / "registry" / "conc"
    deadline = time.monotonic() + 240
    with registry_lock(root):  # keeps the run alive at registration
        proc, log = cli_runner.start(["train", "--config", str(cfg)])
        run_id = _run_id(log, deadline)
        run_dir = out / "runs" / run_id
        _wait_at_registry([proc], [run_dir], deadline)
        before = sorted(p.name for p in run_dir.iterdir())

        rc, err = cli_runner.run(["train", "--config", str(cfg), "--resume", run_id])  # the CLI
        assert rc == 2, err[-4000:]
        assert f"run '{run_id}' is still running (process " in err
        assert "wait for it to end before resuming it" in err
        state = train_flow(load_config(cfg), run_id=run_id, resume=True, return_state=True)  # the UI
        assert state.is_failed() and f"run '{run_id}' is still running" in state.message
        assert sorted(p.name for p in run_dir.iterdir()) == before  # nothing written into it
        assert proc.is_alive()
    proc.join(120)
    assert proc.exitcode == 0, log.read_text()[-3000:]
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
