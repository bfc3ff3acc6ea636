"""The CLI's temporary Prefect API server: started before the heavy imports, used by the flows,
gone with the process; never started when Prefect's settings name a server or forbid one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import json, os, sys
import psutil
from lstmflow.cli.server import start_api_server
ready = start_api_server()
url = os.environ.get("PREFECT_API_URL")
children = [p.cmdline() for p in psutil.Process().children()]
runs = None
if children:
    ready()
    from prefect import flow
    from prefect.client.orchestration import get_client

    @flow(name="api-server-probe")
    def probe() -> int:
        return 41 + 1

    assert probe() == 42
    with get_client(sync_client=True) as client:
        runs = [r.name for r in client.read_flow_runs()]
        flows = [f.name for f in client.read_flows()]
    runs = {"runs": len(runs), "flows": flows}
print(json.dumps({"url": url, "children": children, "runs": runs}))
"""


def _run(tmp_path, **env) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base.update(PREFECT_HOME=str(tmp_path / "home"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                PREFECT_PROFILES_PATH=str(tmp_path / "profiles.toml"), **env)
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=base, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _port_open(url: str) -> bool:
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def test_the_temporary_server_runs_the_flows_and_ends_with_the_process(tmp_path):
    out = _run(tmp_path, PREFECT_SERVER_EPHEMERAL_ENABLED="true")
    assert out["url"].startswith("http://127.0.0.1:") and out["url"].endswith("/api")
    assert any("prefect.server.api.server:create_app" in " ".join(c) for c in out["children"])
    assert out["runs"] == {"runs": 1, "flows": ["api-server-probe"]}  # recorded on that server
    assert not _port_open(out["url"])  # stopped at exit
    assert (tmp_path / "home" / "prefect.db").exists()  # Prefect's own database, own home


def test_a_named_server_or_a_forbidden_temporary_one_starts_nothing(tmp_path):
    named = _run(tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api")
    assert named["url"] == "http://127.0.0.1:9/api" and named["children"] == []
    off = _run(tmp_path, PREFECT_SERVER_EPHEMERAL_ENABLED="false")
    assert off["url"] is None and off["children"] == []  # Prefect's own error will say why
    # a profile that names a server counts like the variable
    (tmp_path / "profiles.toml").write_text(
        'active = "remote"\n[profiles.remote]\nPREFECT_API_URL = "http://127.0.0.1:9/api"\n')
    profile = _run(tmp_path)
    assert profile["url"] is None and profile["children"] == []


def test_the_console_script_runs_every_exit_handler_and_keeps_the_exit_code(tmp_path):
    """`run` skips module teardown (os._exit) only after the atexit handlers ran, with main's
    code; an argparse exit takes Python's usual way out."""
    mark = tmp_path / "handler-ran"
    script = (  # the handler is registered while the command runs, as Prefect's are
        f"import atexit, pathlib, sys\nsys.argv = ['lstmflow', *sys.argv[1:]]\n"
        "import lstmflow.cli as cli\nreal = cli.main\n"
        "def main(argv=None):\n"
        f"    atexit.register(lambda: pathlib.Path({str(mark)!r}).write_text('yes'))\n"
        "    return real(argv)\n"
        "cli.main = main\ncli.run()\n")
    for args, code in ((["validate", "--config", "nope.yaml"], 2), (["--bogus"], 2),
                       (["report", "--help"], 0)):
        mark.unlink(missing_ok=True)
        r = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == code, r.stderr[-2000:]
        assert mark.read_text() == "yes"
    assert "config file 'nope.yaml' does not exist" in subprocess.run(
        [sys.executable, "-c", script, "validate", "--config", "nope.yaml"], cwd=ROOT,
        capture_output=True, text=True, timeout=60).stderr
