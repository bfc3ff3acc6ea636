"""tune.storage on a real PostgreSQL server: a throwaway cluster on a loopback port (initdb,
pg_ctl from the image), two Dask worker processes adding trials to one study through it, the
password never printed. Skipped only where the binaries are missing and CI is not set."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from lstmflow.config import ConfigError, with_overrides
from tests.test_tune import tune_cfg

PG = ("initdb", "pg_ctl")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _pwfile(root: Path) -> Path:
    path = root / "pw"
    path.write_text("superuser-pw\n")
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")
    return path


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root (CI containers are root): run as the image's user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres():
    """A running cluster with a database 'tune' and a user with a password; its URL."""
    missing = [b for b in PG if not shutil.which(b)]
    if os.geteuid() == 0 and not (shutil.which("runuser") and _user_exists("postgres")):
        missing.append("a 'postgres' user and runuser (PostgreSQL refuses to run as root)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: .ci/run needs PostgreSQL for this test")
        pytest.skip(f"PostgreSQL not runnable here: {', '.join(missing)} missing")
    # not under pytest's tmp folder: root's is closed to the postgres user
    root = Path(tempfile.mkdtemp(prefix="lstmflow-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    run = lambda cmd: subprocess.run(_as_postgres(cmd), check=True, capture_output=True,  # noqa: E731
                                     text=True, timeout=120)
    # trust for the superuser on the socket, passwords (scram) for everyone over TCP
    run(["initdb", "-D", str(data), "-U", "postgres", "--auth-local=trust",
         "--auth-host=scram-sha-256", f"--pwfile={_pwfile(root)}"])
    run(["pg_ctl", "-D", str(data), "-l", str(root / "log"), "-w", "-o",
         f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"])
    try:
        import psycopg

        with psycopg.connect(f"host={data} port={port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE USER tuner PASSWORD 's3cret-pw'")
            conn.execute("CREATE DATABASE tune OWNER tuner")
        yield f"postgresql+psycopg://tuner@127.0.0.1:{port}/tune"
    finally:
        run(["pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def test_two_dask_workers_share_one_study_on_postgres(prefect_harness, postgres, sample_slice,
                                                      tmp_path, monkeypatch):
    """The password reaches the workers (other processes) through PGPASSWORD, never the URL."""
    from flows.tune import tune_flow

    monkeypatch.setenv("PGPASSWORD", "s3cret-pw")
    cfg = with_overrides(tune_cfg(sample_slice, tmp_path / "out"),
                         [f"tune.storage={postgres}", "tune.trials=4", "runtime.runner=dask",
                          "runtime.workers=2"])
    state = tune_flow(cfg, run_id="pg", return_state=True)
    assert state.is_completed(), state.message
    record = json.loads((tmp_path / "out" / "runs" / "pg" / "tune.json").read_text())
    assert record["fan_out"]["runner"] == "dask" and record["fan_out"]["workers"] == 2
    assert record["storage"] == postgres
    assert "s3cret-pw" not in json.dumps(record)
    assert not (tmp_path / "out" / "tune").exists()  # no SQLite file beside it
    numbers = [t["number"] for t in record["trials"]]
    assert sorted(numbers) == [0, 1, 2, 3] and record["this_run"] == [0, 1, 2, 3]
    params = [json.dumps(t["params"], sort_keys=True) for t in record["trials"]]
    assert len(set(params)) == 4  # distinct trials: the workers did not propose the same point

    import optuna  # the study is in the database, whoever reads it

    study = optuna.load_study(study_name=record["study"], storage=postgres)
    assert len(study.trials) == 4


def test_an_unreachable_database_fails_the_run_naming_the_masked_url(
        prefect_harness, sample_slice, tmp_path):
    from flows.tune import tune_flow

    url = f"postgresql+psycopg://tuner@127.0.0.1:{_free_port()}/tune"
    cfg = with_overrides(tune_cfg(sample_slice, tmp_path / "out"), [f"tune.storage={url}"])
    state = tune_flow(cfg, run_id="nodb", return_state=True)
    assert state.is_failed()
    assert state.message.startswith(f"tune.storage {url}: cannot open the study's database "
                                    "(OperationalError: "), state.message
    record = json.loads((Path(tmp_path) / "out" / "runs" / "nodb" / "tune.json").read_text())
    assert record["status"] == "failed" and "cannot open the study's database" in record["reason"]


def test_a_password_in_the_url_is_refused_without_echoing_it(sample_slice, tmp_path):
    url = "postgresql+psycopg://tuner:hidden-pw@db.example:5432/tune"
    with pytest.raises(ConfigError) as err:
        with_overrides(tune_cfg(sample_slice, tmp_path), [f"tune.storage={url}"])
    assert "config key 'tune.storage'" in str(err.value) and "PGPASSWORD" in str(err.value)
    assert "hidden-pw" not in str(err.value)


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "mysql://u@h/db", "/tmp/study.db"])
def test_a_storage_without_a_supported_driver_is_refused(sample_slice, tmp_path, url):
    with pytest.raises(ConfigError, match=r"tune\.storage"):
        with_overrides(tune_cfg(sample_slice, tmp_path), [f"tune.storage={url}"])
