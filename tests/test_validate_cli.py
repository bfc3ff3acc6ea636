"""`lstmflow validate`: ingestion and the first gate only, a readable report, exit 0/1/2, and
nothing written (in-process `main`, so GE is imported once for the module)."""

from __future__ import annotations

from pathlib import Path

import yaml

from lstmflow.cli import main
from tests.conftest import ROOT
from tests.fixtures.cases import FIXTURES, fixture_config


def _config_file(tmp_path: Path, data_file: str | Path, **sections) -> Path:
    path = tmp_path / "config.yaml"
    cfg = fixture_config(FIXTURES / data_file, tmp_path / "out", **sections)
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_healthy_data_passes_and_nothing_is_written(tmp_path, capsys):
    rc = main(["validate", "--config", str(_config_file(tmp_path, "shuffled.csv"))])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "shuffled.csv: 200 rows read -> 1 series on a 'D' grid (200 rows), fingerprint " in out
    assert "  fixed: rows were not in (series, timestamp) order: sorted" in out
    assert "gate 'ingested': " in out and " 0 failed, 0 warnings" in out
    assert "  ok   [ingested] value: finite values (no inf)" in out
    assert "gate passed in " in out
    assert not (tmp_path / "out").exists()


def test_failed_gate_lists_each_failure_and_exits_1(tmp_path, capsys):
    rc = main(["validate", "--config", str(_config_file(tmp_path, "gap_30.csv"))])
    out = capsys.readouterr().out
    assert rc == 1
    assert ("  FAIL [ingested-series] column 'value': longest run of missing steps <= 25 failed, "
            "1 of 1 series unexpected, e.g. a: 30 at 2020-04-10") in out
    assert out.index("FAIL") < out.index("  ok ")  # failures first
    assert "gate FAILED in " in out
    assert not (tmp_path / "out").exists()


def test_refused_file_is_one_paragraph_with_exit_2(tmp_path, capsys):
    rc = main(["validate", "--config", str(_config_file(tmp_path, "naive_and_aware.csv"))])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.err.startswith("lstmflow: error: data file ")
    assert "mixed time zones" in captured.err and "Traceback" not in captured.err + captured.out


def test_docs_option_builds_data_docs(tmp_path, capsys):
    docs = tmp_path / "docs"
    rc = main(["validate", "--config", str(_config_file(tmp_path, "constant.csv")), "--docs", str(docs)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "  warn [ingested-series] column 'value': not constant (zero variance) failed" in out
    assert f"Data Docs: {docs / 'index.html'}" in out
    assert (docs / "index.html").is_file() and list((docs / "validations").rglob("*.html"))
    assert not (docs / "static" / "fonts").exists()


def test_bundled_sample_validates(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    rc = main(["validate", "--config", "configs/default.yaml"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "data/sample/stocks.parquet: 12154 rows read -> 5 series on a 'B' grid" in out
    assert ("  warn [ingested-series] column 'Ticker': enough history per series (>= 379 rows = "
            "input_size + horizon + val_size + test_size) failed, 1 of 5 series unexpected, e.g. FB: 206"
            ) in out
    assert "0 failed, 1 warnings" in out
    # the per-series facts behind the gate; AAPL's largest step is the real -52% day (x2.08)
    assert "  AAPL                3393     3.6%     4   x2.08  2013-03-01" in out
