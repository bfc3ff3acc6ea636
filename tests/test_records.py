"""Typed records (lstmflow.records): every file lstmflow writes and reads back (summary.json,
backtest.json, tune.json, a version's manifest.json) comes from a real run, reads back through
its record to exactly the file, and holds no key its record does not declare; files written
before (unknown keys, keys missing) still read and render; manifests sealed before the records
still verify, and a changed byte is still refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lstmflow.config import build_config
from lstmflow.records.backtest import BacktestSummary, FoldRecord
from lstmflow.records.base import Record
from lstmflow.records.manifest import Manifest
from lstmflow.records.run import RunSummary
from lstmflow.records.tune import TuneSummary
from lstmflow.serve.manifest import (
    FORMAT,
    MANIFEST,
    IntegrityError,
    canonical_sha256,
    file_table,
    read_manifest,
    seal,
)
from tests.conftest import small_config_dict

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BEFORE = FIXTURES / "manifest_before_records.json"  # sealed by the dict-based code before records
TUNE = {"trials": 2, "startup_trials": 1, "warmup_checks": 1, "seed": 3,
        "space": {"input_size": [16, 24], "hidden_size": [4, 16]}}
# Keys records.run writes without declaring them (its docstrings name them): a gate's file
# paths, the series a finding names. Any other undeclared key fails the tests below.
KNOWN_EXTRAS: dict[type, set[str]] = {}  # undeclared keys a record may carry on purpose


def canon(obj: Any) -> str:
    """JSON text to compare with: key order aside, exactly equal (NaN, 1 vs 1.0 included)."""
    return json.dumps(obj, sort_keys=True)


def undeclared(record: Record, where: str = "") -> list[str]:
    """Every key, at any depth, that a record holds as an extra rather than as its field."""
    out = [f"{where}.{k}" for k in record.model_extra or {}
           if k not in KNOWN_EXTRAS.get(type(record), set())]
    for name in record.model_fields_set & set(type(record).model_fields):
        out += _inside(getattr(record, name), f"{where}.{name}")
    return out


def _inside(value: Any, where: str) -> list[str]:
    if isinstance(value, Record):
        return undeclared(value, where)
    if isinstance(value, list):
        return [k for i, v in enumerate(value) for k in _inside(v, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [k for key, v in value.items() for k in _inside(v, f"{where}.{key}")]
    return []


@pytest.fixture(scope="module")
def runs(prefect_harness, sample_slice, tmp_path_factory):
    """One real run of each kind on the tiny slice, in one output dir: a training run that
    registers its version, a backtest of 2 folds, a tune of 2 trials."""
    from flows.backtest import backtest_flow
    from flows.training import train_flow
    from flows.tune import tune_flow

    out = tmp_path_factory.mktemp("records")
    raw = small_config_dict(sample_slice, out, registry={"promote": "always"},
                            backtest={"folds": 2, "step": 30}, tune=TUNE,
                            runtime={"concurrent_runs": 1, "workers": 1})
    cfg = build_config(raw)
    trained = train_flow(cfg, run_id="train")
    assert trained["status"] == "completed", trained.get("reason")
    backtest = backtest_flow(cfg, run_id="backtest", return_state=True)
    assert backtest.is_completed(), backtest.message
    tune = tune_flow(cfg, run_id="tune", return_state=True)
    assert tune.is_completed(), tune.message
    return {"out": out, "train": trained, "backtest": backtest.result(),
            "tune": tune.result()}


FILES = {"summary.json": ("train", RunSummary), "backtest.json": ("backtest", BacktestSummary),
         "tune.json": ("tune", TuneSummary)}


@pytest.mark.parametrize("name", list(FILES))
def test_a_runs_file_reads_back_through_its_record_exactly(runs, name):
    run_id, record = FILES[name]
    path = runs["out"] / "runs" / run_id / name
    written = json.loads(path.read_text(encoding="utf-8"))
    back = record.read(path)
    assert canon(back.to_json()) == canon(written)
    assert undeclared(back) == [], f"keys in {name} that {record.__name__} does not declare"
    assert canon(runs[run_id]) == canon(written)  # what the flow returned is the file


def test_the_files_carry_what_their_runs_did(runs):
    """The typed parts are filled, not left to extras: folds, trials, the manifest's decision."""
    backtest = BacktestSummary.read(runs["out"] / "runs" / "backtest" / "backtest.json")
    assert backtest.kind == "backtest" and [f.fold for f in backtest.folds] == [0, 1]
    assert all(f.status == "completed" and f.training and f.metrics and f.diagnosis
               for f in backtest.folds)
    tune = TuneSummary.read(runs["out"] / "runs" / "tune" / "tune.json")
    assert tune.kind == "tune" and [t.number for t in tune.trials] == [0, 1]
    assert tune.this_run == [0, 1] and tune.stored_before == 0 and tune.trials[0].start
    assert tune.best is not None and tune.best.state == "complete"


def test_a_versions_manifest_reads_back_through_its_record_exactly(runs):
    folder = runs["out"] / "registry" / "test" / "versions" / "train"
    written = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert canon(read_manifest(folder)) == canon(written)
    back = Manifest.read(folder / MANIFEST)
    assert canon(back.to_json()) == canon(written)
    assert undeclared(back) == []
    assert back.decision.promoted and back.decision.policy == "always"
    assert back.data.series == ["AAPL", "MSFT"] and set(back.files) == set(file_table(folder))


def _old_seal(record: dict[str, Any], folder: Path) -> dict[str, Any]:
    """How manifests were sealed before the records (lstmflow.serve.manifest.seal, dict-based)."""
    manifest = {**record, "format": FORMAT, "files": file_table(folder)}
    manifest["manifest_sha256"] = canonical_sha256(manifest)
    return manifest


def test_the_record_seals_the_same_bytes_the_dict_code_did(runs, tmp_path):
    """Sealed from the record or by the old dict code, a manifest hashes the same content."""
    folder = tmp_path / "v"
    shutil.copytree(runs["out"] / "registry" / "test" / "versions" / "train", folder)
    written = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    record = {k: v for k, v in written.items() if k not in ("format", "files", "manifest_sha256")}
    old, new = _old_seal(record, folder), seal(Manifest.from_json(record), folder)
    assert canon(new) == canon(old) == canon(written)
    assert new["manifest_sha256"] == old["manifest_sha256"] == written["manifest_sha256"]


def test_a_version_sealed_before_the_records_still_verifies_and_loads(runs, tmp_path):
    """A version whose manifest the old dict code wrote loads; a changed value is refused."""
    from lstmflow.serve.registry import load_version

    folder = tmp_path / "v"
    shutil.copytree(runs["out"] / "registry" / "test" / "versions" / "train", folder)
    written = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    record = {k: v for k, v in written.items() if k not in ("format", "files", "manifest_sha256")}
    record["from_a_later_lstmflow"] = {"kept": True}  # an unknown key is read, and covered
    text = json.dumps(_old_seal(record, folder), indent=2, sort_keys=True, default=str)
    (folder / MANIFEST).write_text(text, encoding="utf-8")
    version = load_version(folder)
    assert canon(version.manifest) == canon(json.loads(text))
    assert version.manifest["data"]["series"] == ["AAPL", "MSFT"]
    (folder / MANIFEST).write_text(text.replace('"kept": true', '"kept": false'))
    with pytest.raises(IntegrityError, match=f"file '{MANIFEST}' was changed after it was "):
        load_version(folder)


def test_a_manifest_from_before_the_records_reads_and_a_changed_byte_is_refused(tmp_path):
    """tests/fixtures/manifest_before_records.json: sealed by lstmflow before this change."""
    folder = tmp_path / "v"
    folder.mkdir()
    original = BEFORE.read_text(encoding="utf-8")
    (folder / MANIFEST).write_text(original, encoding="utf-8")
    manifest = read_manifest(folder)
    assert canon(manifest) == canon(json.loads(original))
    assert undeclared(Manifest.from_json(manifest)) == []
    assert manifest["decision"]["status"] == "champion"
    for changed in (original.replace('"status": "champion"', '"status": "candidate"'),
                    original.replace('"rows": 1248', '"rows": 1249')):
        assert changed != original
        (folder / MANIFEST).write_text(changed, encoding="utf-8")
        with pytest.raises(IntegrityError, match=f"file '{MANIFEST}' was changed after it was "):
            read_manifest(folder)
    data = bytearray(original.encode())
    data[len(data) // 2] ^= 0x01
    (folder / MANIFEST).write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=f"file '{MANIFEST}'"):
        read_manifest(folder)


def _older(src: Path, dst: Path, name: str, edit) -> dict[str, Any]:
    """A copy of run folder `src` as `dst` whose `name` `edit` changed, as it was written."""
    shutil.copytree(src, dst)
    data = edit(json.loads((dst / name).read_text(encoding="utf-8")))
    (dst / name).write_text(json.dumps(data, indent=2), encoding="utf-8")
    for page in ("report.html", "backtest.html", "tune.html"):
        (dst / page).unlink(missing_ok=True)
    return data


def _drop(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def test_older_run_folders_read_back_and_render(runs, capsys):
    """Files of another lstmflow: optional keys missing, unknown keys present. Each reads back
    to exactly what it holds (the unknown keys kept) and `lstmflow report` renders it."""
    from lstmflow.cli import main

    out = runs["out"]
    summary = _older(out / "runs" / "train", out / "runs" / "old-train", "summary.json",
                     lambda s: {**_drop(s, "flow_run_id", "preprocess", "input_gate",
                                        "data_stats", "promotion", "promoted",
                                        "promotion_reason", "report_path", "repair", "attempts"),
                                "training": _drop(s["training"], "segment_len", "steps_run",
                                                  "budget", "learning_rate"),
                                "from_a_later_lstmflow": [1, 2]})
    backtest = _older(out / "runs" / "backtest", out / "runs" / "old-backtest", "backtest.json",
                      lambda s: {**_drop(s, "kind", "flow_run_id", "fan_out", "folds_seconds",
                                         "report_path", "error_type"),
                                 "folds": [{**_drop(f, "where", "torch_threads", "input_gate"),
                                            "device": "cpu"} for f in s["folds"]],
                                 "from_a_later_lstmflow": {"x": 1}})
    tune = _older(out / "runs" / "tune", out / "runs" / "old-tune", "tune.json",
                  lambda s: {**_drop(s, "kind", "flow_run_id", "fan_out", "trials_seconds",
                                     "importances", "importance_note"),
                             "trials": [{**_drop(t, "val_loss", "checks", "folds"), "extra": 1}
                                        for t in s["trials"]],
                             "from_a_later_lstmflow": None})
    for record, run_id, name, data, page in (
            (RunSummary, "old-train", "summary.json", summary, "report.html"),
            (BacktestSummary, "old-backtest", "backtest.json", backtest, "backtest.html"),
            (TuneSummary, "old-tune", "tune.json", tune, "tune.html")):
        back = record.read(out / "runs" / run_id / name)
        assert canon(back.to_json()) == canon(data)
        assert back.model_extra["from_a_later_lstmflow"] == data["from_a_later_lstmflow"]
        assert main(["report", run_id, "--output-dir", str(out)]) == 0
        assert capsys.readouterr().out.strip() == str((out / "runs" / run_id / page).resolve())


def test_a_key_written_without_a_field_is_caught():
    """What the tests above rely on: an undeclared key, at any depth, is named."""
    fold = FoldRecord(fold=0, status="completed", surprise=1,
                      diagnosis=[{"finding": "healthy", "severity": "info", "oops": 2}])
    summary = BacktestSummary(status="completed", run_id="r", folds=[fold],
                              gate={"success": True, "table": "t.csv", "later": 3})
    assert sorted(undeclared(summary)) == [".folds[0].diagnosis[0].oops", ".folds[0].surprise",
                                           ".gate.later"]
    assert "kind" not in summary.to_json()  # a default is not written unless set
