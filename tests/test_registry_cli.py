"""`lstmflow registry ...` and `lstmflow predict` as a person types them (real console script
processes, no Prefect API: predict takes its plain path)."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from lstmflow.config import build_config
from tests.conftest import ROOT, register_version, small_config_dict


def lstmflow(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run([sys.executable, "-m", "lstmflow.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def registry(sample_slice, tmp_path_factory):
    """v1 then v2 promoted ('always'), v3 rejected (an error finding); the config file."""
    base = tmp_path_factory.mktemp("cli")
    raw = small_config_dict(sample_slice, base / "out", registry={"promote": "always"})
    raw["data"]["covariates"] = ["Volume"]
    cfg = build_config(raw)
    for version, seed in (("v1", 1), ("v2", 2)):
        register_version(cfg, version, seed=seed)
    register_version(cfg, "v3", seed=3, blocked=["underfitting"])
    path = base / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return str(path), base


def test_list_and_show(registry):
    config, base = registry
    r = lstmflow("registry", "list", "--config", config)
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split()[2] for line in r.stdout.splitlines()[2:]}
    assert rows == {"v1": "candidate", "v2": "champion", "v3": "rejected"}
    r = lstmflow("registry", "show", "v3", "--output-dir", str(base / "out"))  # the only registry
    assert r.returncode == 0, r.stderr
    assert "version v3: rejected (files verified against the manifest)" in r.stdout
    assert "at registration: rejected: the diagnosis found errors (underfitting)" in r.stdout
    assert "file model.safetensors" in r.stdout and "register v3: the diagnosis" in r.stdout
    r = lstmflow("registry", "show", "v9", "--config", config)
    assert r.returncode == 1 and "has no version 'v9'" in r.stderr


def test_promote_rollback_and_predict_with_what_is_champion(registry, tmp_path):
    config, _ = registry
    r = lstmflow("registry", "promote", "v3", "--config", config)
    assert r.returncode == 1 and "promote it anyway with --force" in r.stderr
    r = lstmflow("registry", "promote", "v3", "--config", config, "--force", "--reason", "test")
    assert r.returncode == 0 and "champion is now v3 (was v2); promote by " in r.stdout
    r = lstmflow("registry", "rollback", "--config", config)
    assert r.returncode == 0 and "champion is now v2 (was v3); rollback by " in r.stdout
    out = tmp_path / "forecast.parquet"
    r = lstmflow("predict", "--config", config, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f"forecast 2 series (6 rows) with champion v2 -> {out}" in r.stdout
    assert "(no Prefect API server)" in r.stderr
    assert set(pd.read_parquet(out)["model_version"]) == {"v2"}


def test_predict_refuses_a_file_without_a_covariate_column(registry, sample_slice, tmp_path):
    config, _ = registry
    path = tmp_path / "no_volume.csv"
    pd.read_csv(sample_slice).drop(columns=["Volume"]).to_csv(path, index=False)
    r = lstmflow("predict", "--config", config, "--set", f"data.path={path}")
    assert r.returncode == 2
    assert f"data file '{path}'" in r.stderr and "'Volume'" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_registry_that_is_not_there(tmp_path):
    r = lstmflow("registry", "list", "--output-dir", str(tmp_path))
    assert r.returncode == 2 and "holds 0 registries (none): name one with --name" in r.stderr
    r = lstmflow("registry", "rollback", "--output-dir", str(tmp_path), "--name", "x")
    assert r.returncode == 2 and "registry" in r.stderr and "does not exist" in r.stderr
