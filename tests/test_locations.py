"""Allowed locations (LSTMFLOW_ALLOWED_ROOTS on the worker): a run whose config points outside
them is refused before it reads or writes anything, naming the key and the roots; unset, the
CLI and flows behave as before."""

from __future__ import annotations

import os

import pytest

from lstmflow.config import ConfigError, config_from_parameters
from lstmflow.config.locations import ALLOWED_ENV, check_location, within
from tests.conftest import single_fit_config


@pytest.mark.parametrize(("value", "root", "inside"), [
    ("/data/team/a.csv", "/data/team", True),
    ("/data/team", "/data/team", True),
    ("/data/team2/a.csv", "/data/team", False),  # a prefix of the name is not a parent
    ("/data/team/../../etc/passwd", "/data/team", False),
    ("file:///data/team/a.csv", "/data/team", True),
    ("s3://bucket/team/runs", "s3://bucket/team", True),
    ("s3://bucket/team-other/runs", "s3://bucket/team", False),
    ("s3://bucket/team/../other", "s3://bucket/team", False),
    ("gs://bucket/team/runs", "s3://bucket/team", False),  # another scheme
    ("s3://bucket/team/a.csv", "/data/team", False),  # a URL is never under a local root
    ("/data/team/a.csv", "s3://bucket/team", False),
    ("s3://key:secret@bucket/team/a.csv", "s3://bucket/team", True),
])
def test_within_compares_whole_path_components(value, root, inside):
    assert within(value, root) is inside


def test_a_symlink_out_of_a_root_is_outside(tmp_path):
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir(), elsewhere.mkdir()
    (root / "link").symlink_to(elsewhere)
    assert not within(str(root / "link" / "a.csv"), str(root))
    assert within(str(root / "a.csv"), str(root))


def test_the_message_names_the_key_and_roots_without_credentials():
    with pytest.raises(ConfigError) as err:
        check_location("output_dir", "s3://key:secret@other/x", ["s3://bucket/team", "/srv/data"])
    msg = str(err.value)
    assert msg.startswith("config key 'output_dir' (s3://other/x) is outside the locations this "
                          "worker allows (s3://bucket/team, /srv/data; set by "
                          f"{ALLOWED_ENV} on the worker)")
    assert "secret" not in msg and "key:" not in msg


def test_unset_allows_everything_and_set_refuses_each_key(sample_slice, tmp_path, monkeypatch):
    cfg = single_fit_config(sample_slice, tmp_path / "out")
    monkeypatch.delenv(ALLOWED_ENV, raising=False)
    assert config_from_parameters(cfg, ["data.path=/etc/passwd"]).data.path == "/etc/passwd"
    monkeypatch.setenv(ALLOWED_ENV, f"{sample_slice.parent}, {tmp_path}")
    assert config_from_parameters(cfg) is cfg  # data and outputs inside: unchanged
    for change, key in [("data.path=/etc/passwd", "data.path"),
                        ("output_dir=/tmp", "output_dir"),
                        ("tracking.logger=tensorboard", None),  # its folder: under output_dir
                        ("tracking.uri=/var/tb", None)]:  # no folder logger: not a location
        if key is None:
            config_from_parameters(cfg, [change])
            continue
        with pytest.raises(ConfigError, match=rf"^config key '{key}' \("):
            config_from_parameters(cfg, [change])
    with pytest.raises(ConfigError, match=r"^config key 'tracking.uri' \(/var/tb\)"):
        config_from_parameters(cfg, ["tracking.logger=csv", "tracking.uri=/var/tb"])


def test_a_url_output_dir_of_an_unknown_scheme_is_refused_not_written_to_a_folder(
        sample_slice, tmp_path, monkeypatch):
    """'s4://' used to land in a local folder named 's4:' while every run exited 0."""
    monkeypatch.delenv(ALLOWED_ENV, raising=False)
    cfg = single_fit_config(sample_slice, tmp_path / "out")
    with pytest.raises(ConfigError, match=r"config key 'output_dir': Value error, 's4://bucket/"
                       r"team': 's4://' is not a storage scheme fsspec knows"):
        config_from_parameters(cfg, ["output_dir=s4://bucket/team"])
    for url in ("s3://bucket/team", "file:///srv/out"):  # known, its package here: accepted
        assert config_from_parameters(cfg, [f"output_dir={url}"]).output_dir == url
    with pytest.raises(ConfigError, match=r"'gs://b/p' needs the filesystem package of 'gs://', "
                       r"which is not installed here: pip install gcsfs"):
        config_from_parameters(cfg, ["output_dir=gs://b/p"])


def test_credentials_in_storage_options_are_refused(sample_slice, tmp_path, monkeypatch):
    """A config is shown in the Prefect UI: a secret there would be printed."""
    monkeypatch.delenv(ALLOWED_ENV, raising=False)
    cfg = single_fit_config(sample_slice, tmp_path / "out")
    with pytest.raises(ConfigError, match=r"storage_options may not hold credentials \(secret\)"
                       r".*AWS_SECRET_ACCESS_KEY"):
        config_from_parameters(cfg, ["output_dir=s3://b/p", "storage_options.secret=abc"])
    ok = config_from_parameters(cfg, ["storage_options.endpoint_url=http://127.0.0.1:9"])
    assert ok.storage_options == {"endpoint_url": "http://127.0.0.1:9"}


def test_a_flow_run_outside_the_roots_fails_before_reading(prefect_harness, sample_slice,
                                                            tmp_path, monkeypatch):
    """As a UI-triggered run would: the training and predict flows with a data path outside
    the worker's roots end Failed with the message, and leave no run or prediction folder."""
    from prefect.states import State

    from flows.predict import predict_flow
    from flows.training import train_flow

    out = tmp_path / "out"
    cfg = single_fit_config(sample_slice, out)
    monkeypatch.setenv(ALLOWED_ENV, f"{sample_slice.parent},{out}")
    for flow, kwargs in [(train_flow, {}), (predict_flow, {})]:
        state = flow(cfg, overrides=["data.path=/etc/passwd"], return_state=True, **kwargs)
        assert isinstance(state, State) and state.is_failed()
        assert state.message.startswith("config key 'data.path' (/etc/passwd) is outside")
    monkeypatch.setenv(ALLOWED_ENV, f"{sample_slice.parent},{out},s3://team-bucket/lstmflow")
    state = train_flow(cfg, overrides=["output_dir=s3://other-bucket/lstmflow"], return_state=True)
    assert state.is_failed() and state.message.startswith(
        "config key 'output_dir' (s3://other-bucket/lstmflow) is outside the locations")
    state = predict_flow(cfg, out="/tmp/forecasts.parquet", return_state=True)
    assert state.is_failed() and state.message.startswith("config key 'out' (/tmp/forecasts")
    assert not out.exists() or not any(os.scandir(out))


def test_a_url_out_for_predict_is_refused_not_written_to_a_folder_named_after_it(tmp_path):
    from lstmflow.config.locations import check_local_file

    with pytest.raises(ConfigError, match=r"^'--out' \(s3://b/f.parquet\) is a URL, and it "
                       r"names a local file: leave it out"):
        check_local_file("--out", "s3://user:pw@b/f.parquet")
    check_local_file("--out", str(tmp_path / "f.parquet"))  # a path: fine
    check_local_file("--out", None)
