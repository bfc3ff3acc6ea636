"""User-facing messages do not depend on where the project lives or how wide the terminal is:
no hard wrap (the terminal wraps), one paragraph per error, every phrase whole."""

from __future__ import annotations

import shutil

import pytest
import yaml

from lstmflow.cli import main
from lstmflow.config import ConfigError, load_config
from lstmflow.report.summary import render_text
from tests.fixtures.cases import FIXTURES, fixture_config


@pytest.fixture
def deep(tmp_path):
    """A folder whose path is over 150 characters long, wherever the test runs."""
    folder = tmp_path.joinpath(*["a-rather-long-folder-name-" + str(i) for i in range(6)])
    folder.mkdir(parents=True)
    assert len(str(folder)) > 150
    return folder


def _cli_error(argv: list[str], columns: str, monkeypatch, capsys) -> str:
    monkeypatch.setenv("COLUMNS", columns)
    assert main(argv) == 2
    return capsys.readouterr().err


def test_refusal_under_a_long_path_is_one_line_whatever_the_terminal_width(deep, monkeypatch,
                                                                           capsys):
    data = deep / "naive_and_aware.csv"
    shutil.copy(FIXTURES / "naive_and_aware.csv", data)
    cfg = deep / "config.yaml"
    cfg.write_text(yaml.safe_dump(fixture_config(data, deep / "out")), encoding="utf-8")
    narrow = _cli_error(["validate", "--config", str(cfg)], "30", monkeypatch, capsys)
    wide = _cli_error(["validate", "--config", str(cfg)], "500", monkeypatch, capsys)
    assert narrow == wide
    assert narrow.count("\n") == 1 and narrow.endswith("\n")
    assert narrow.startswith(f"lstmflow: error: data file '{data}', column 'date': mixed time zones: ")
    assert "a stamp without a zone cannot be placed in time" in narrow


def test_config_errors_are_one_line(deep):
    bad = deep / "bad.yaml"
    bad.write_text("data: [1, 2\nname: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert str(err.value) == (f"config file '{bad}' is not valid YAML: line 2, column 5: expected "
                              "',' or ']', but got ':' (while parsing a flow sequence)")
    good = deep / "good.yaml"
    good.write_text(yaml.safe_dump(fixture_config(deep / "x.csv")), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(good, ["data=[: x"])
    assert str(err.value) == ("--set data: value is not valid YAML (line 1, column 2: expected the "
                              "node content, but found ':' (while parsing a flow node))")


def test_terminal_summary_lines_are_not_wrapped(deep):
    block = {"mae": 1.0, "rmse": 1.0, "points": 3, "rel_mae": 1.0, "per_series": {}}
    summary = {"run_id": "r", "status": "completed", "run_dir": str(deep / "runs" / "r"),
               "warnings": [f"series 's' left out: 3 rows < 30 needed ({deep})"],
               "metrics": {m: dict(block) for m in ("model", "naive", "seasonal_naive")}}
    lines = render_text(summary).splitlines()
    note = [line for line in lines if line.lstrip().startswith("ALL: MAE pooled")]
    assert note and note[0].endswith("(each series counts once).")
    assert f"  run folder: {deep / 'runs' / 'r'}" in lines
    assert f"  warning: series 's' left out: 3 rows < 30 needed ({deep})" in lines
