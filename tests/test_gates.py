"""The data-quality gates as plain functions on real GE: each bad input fails with its specific
message, healthy data (fixtures and both bundled samples) passes, severities and GE errors are
reported as such."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from expectations.ingested import validate_ingested
from expectations.model_inputs import validate_model_inputs, warmed_up
from expectations.runner import describe_failure
from lstmflow.config import build_config, load_config
from lstmflow.data.ingest import ingest
from tests.conftest import ROOT
from tests.fixtures.cases import CASES, FIXTURES, fixture_config


def _cfg(name: str, **sections):
    return build_config(fixture_config(FIXTURES / name, **sections))


def _gate(name: str, **sections) -> dict:
    cfg = _cfg(name, **sections)
    data = ingest(cfg.data)
    return validate_ingested(data.frame, cfg, data.report)


def _lines(rows: list[dict]) -> str:
    return "\n".join(describe_failure(r) for r in rows)


GATE_CASES = [c for c in CASES if c[3] == "gate"]


@pytest.mark.parametrize(("file", "sections", "pattern"),
                         [(*c[1:3], c[4]) for c in GATE_CASES], ids=[c[0] for c in GATE_CASES])
def test_bad_data_fails_the_gate_with_a_specific_message(file, sections, pattern):
    gate = _gate(file, **sections)
    assert gate["success"] is False
    assert re.search(pattern, _lines(gate["failed"])), _lines(gate["failed"])
    assert all(r["severity"] == "error" for r in gate["failed"])


def test_healthy_fixture_passes_without_warnings():
    gate = _gate("healthy.csv")
    assert gate["success"] is True
    assert gate["failed"] == [] and gate["warnings"] == [], _lines(gate["warnings"])
    assert gate["evaluated"] >= 15
    checks = {r["check"] for r in gate["results"]}
    assert {"columns", "types", "unique", "increasing", "off_grid", "missing", "gap", "finite",
            "outliers", "jump", "history", "constant", "level"} <= checks


@pytest.mark.parametrize("config", ["configs/default.yaml", "configs/co2.yaml"])
def test_bundled_samples_pass_with_no_error_level_failure(config):
    cfg = load_config(ROOT / config)
    cfg.data.path = str(ROOT / cfg.data.path)
    data = ingest(cfg.data)
    gate = validate_ingested(data.frame, cfg, data.report)
    assert gate["success"] is True, _lines(gate["failed"])
    # FB (196 rows) is too short and left out with a warning; nothing else is flagged.
    assert [r["check"] for r in gate["warnings"]] == (["history"] if "default" in config else [])


def test_real_splits_and_crash_pass_by_default_and_are_located_when_tightened():
    cfg = load_config(ROOT / "configs/default.yaml",
                      ["data.covariates=[Close]", "quality.jump_columns=[Close]"])
    cfg.data.path = str(ROOT / cfg.data.path)
    data = ingest(cfg.data)
    assert validate_ingested(data.frame, cfg, data.report)["success"] is True
    cfg.quality.max_jump_ratio = 1.5
    gate = validate_ingested(data.frame, cfg, data.report)
    text = _lines(gate["failed"])
    assert "column 'Adj Close': largest single-step change <= x1.5 failed" in text
    assert "AAPL: 2.078 at 2000-09-29" in text  # the real -52% day, by date


def test_constant_series_warns_and_preprocessing_survives():
    from lstmflow.data.prepare import prepare
    from lstmflow.data.split import split_bounds

    cfg = _cfg("constant.csv")
    data = ingest(cfg.data)
    gate = validate_ingested(data.frame, cfg, data.report)
    assert gate["success"] is True
    assert "column 'value': not constant (zero variance) failed, 1 of 1 series unexpected, e.g. a: 0" \
        in _lines(gate["warnings"])
    bounds = split_bounds(data.frame, cfg.evaluation.val_size, cfg.evaluation.test_size)
    prepared = prepare(data.frame, bounds, cfg)
    x = prepared.frame[prepared.inputs].to_numpy(dtype="float64")
    assert not np.isinf(x).any() and np.isfinite(x[~np.isnan(x)]).all()
    assert validate_model_inputs(prepared.frame, prepared.inputs, cfg)["success"] is True


def test_severity_override_turns_a_failure_into_a_warning():
    gate = _gate("jump_100x.csv", quality={"severity": {"jump": "warning"}})
    assert gate["success"] is True
    assert "largest single-step change <= x10 failed" in _lines(gate["warnings"])


def test_staleness_is_opt_in_and_measured_from_as_of():
    assert _gate("healthy.csv", quality={"as_of": "2030-01-01T00:00:00"})["success"] is True
    stale = _gate("healthy.csv", quality={"as_of": "2020-08-01T00:00:00Z", "max_staleness": "7D"})
    assert re.search(r"\[ingested-series\] column 'value': newest observation not older than 7D "
                     r"before 2020-08-01 \(>= 2020-07-25\) failed, 1 of 1 series unexpected, "
                     r"e\.g\. a: 2020-07-18", _lines(stale["failed"])), _lines(stale["failed"])
    fresh = _gate("healthy.csv", quality={"as_of": "2020-08-01T00:00:00Z", "max_staleness": "30D"})
    assert fresh["success"] is True


def test_newest_rows_far_outside_the_history_warn_with_series_value_and_start(tmp_path):
    df = pd.read_csv(FIXTURES / "healthy.csv")
    df.loc[df.index[-8:], "value"] *= 3  # the newest input_size (8) rows: a x3 level change
    path = tmp_path / "level.csv"
    df.to_csv(path, index=False)
    cfg = build_config(fixture_config(path))
    data = ingest(cfg.data)
    gate = validate_ingested(data.frame, cfg, data.report)
    assert gate["success"] is True  # a warning by default: the data is not wrong, only new
    text = _lines(gate["warnings"])
    earlier = df["value"].iloc[:-8]
    far = (df["value"].iloc[-8:].median() - earlier.max()) / (earlier.max() - earlier.min())
    assert re.search(r"column 'value': median of the newest 8 values within 1 ranges of all "
                     rf"earlier values failed, 1 of 1 series unexpected, e\.g\. a: {far:.4g}"
                     rf" at {df['date'].iloc[-8]}", text), text
    assert far > 10
    off = validate_ingested(data.frame, build_config(fixture_config(
        path, quality={"max_level_shift": None})), data.report)
    assert "level" not in {r["check"] for r in off["results"]}
    strict = validate_ingested(data.frame, build_config(fixture_config(
        path, quality={"severity": {"level": "error"}})), data.report)
    assert strict["success"] is False and "median of the newest 8" in _lines(strict["failed"])
    # the same values one window earlier are history by now: the newest rows are inside it
    df.loc[df.index[-16:], "value"] = df["value"].iloc[-8:].to_numpy().repeat(2)[:16]
    df.to_csv(path, index=False)
    data = ingest(cfg.data)
    later = validate_ingested(data.frame, cfg, data.report)
    assert "level" in {r["check"] for r in later["results"]}
    assert "level" not in {r["check"] for r in later["warnings"]}, _lines(later["warnings"])


def test_off_grid_share_is_checked(tmp_path):
    df = pd.read_csv(FIXTURES / "healthy.csv")
    df.loc[[20, 40, 60, 80, 100], "date"] = df.loc[[20, 40, 60, 80, 100], "date"] + "T12:00:00"
    path = tmp_path / "off_grid.csv"
    df.to_csv(path, index=False)
    cfg = build_config(fixture_config(path))
    data = ingest(cfg.data)
    assert data.report["off_grid_rows_dropped"] == 5
    gate = validate_ingested(data.frame, cfg, data.report)
    assert "column 'date': share of stamps off the 'D' grid <= 0.01 failed, 1 of 1 series " \
        "unexpected, e.g. a: 0.025" in _lines(gate["failed"])


def test_expectation_that_errors_in_ge_is_reported_as_an_error_not_as_bad_data():
    gate = _gate("healthy.csv", quality={"bounds": {"Volume": {"min": 0}}})
    assert gate["success"] is False
    [row] = gate["failed"]
    assert row["error"] and "Volume" in row["error"] and row["unexpected_count"] is None
    assert re.match(r"\[ingested\] column 'Volume': values >= 0 could not be checked \(GE error: .*Volume",
                    describe_failure(row))


def test_unsorted_frame_handed_to_the_gate_is_refused():
    cfg = _cfg("healthy.csv")
    frame = ingest(cfg.data).frame.iloc[::-1].reset_index(drop=True)
    gate = validate_ingested(frame, cfg)
    assert "column 'date': timestamps increasing per series failed, 1 of 1 series unexpected, " \
        "e.g. a: 199" in _lines(gate["failed"])


@pytest.mark.parametrize(("policy", "severity"), [("drop", "warning"), ("fail", "error")])
def test_one_short_series_among_long_ones_follows_the_policy(tmp_path, policy, severity):
    long = pd.read_csv(FIXTURES / "healthy.csv")
    short = pd.read_csv(FIXTURES / "short_series.csv").assign(series="b")
    path = tmp_path / "two.csv"
    pd.concat([long, short]).to_csv(path, index=False)
    cfg = build_config(fixture_config(path, data={"short_series": policy}))
    data = ingest(cfg.data)
    gate = validate_ingested(data.frame, cfg, data.report)
    rows = [r for r in gate["results"] if not r["success"]]
    assert [(r["check"], r["severity"]) for r in rows] == [("history", severity)]
    assert describe_failure(rows[0]) == (
        "[ingested-series] column 'series': enough history per series (>= 30 rows = input_size + "
        "horizon + val_size + test_size) failed, 1 of 2 series unexpected, e.g. b: 20")


# ---- gate 2: model inputs ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def prepared_healthy():
    from lstmflow.data.prepare import prepare
    from lstmflow.data.split import split_bounds

    cfg = _cfg("healthy.csv")
    frame = ingest(cfg.data).frame
    bounds = split_bounds(frame, cfg.evaluation.val_size, cfg.evaluation.test_size)
    return cfg, prepare(frame, bounds, cfg)


def test_model_inputs_of_healthy_data_pass(prepared_healthy):
    cfg, prepared = prepared_healthy
    gate = validate_model_inputs(prepared.frame, prepared.inputs, cfg)
    assert gate["success"] is True, _lines(gate["failed"])
    from expectations.model_inputs import expected_inputs

    assert prepared.inputs == expected_inputs(cfg, prepared.frame)
    assert {"z", "mean_gap_3", "vol_3"} <= set(prepared.inputs)


def test_model_inputs_inf_wrong_order_and_huge_values_fail(prepared_healthy):
    cfg, prepared = prepared_healthy
    frame = prepared.frame.copy()
    frame.loc[50, "vol_3"] = np.inf
    frame.loc[60, "mean_gap_3"] = 5e4
    gate = validate_model_inputs(frame, ["z", "vol_3", "mean_gap_3"], cfg)
    text = _lines(gate["failed"])
    n = len(warmed_up(frame, prepared.inputs))  # rows past the feature warm-up
    assert "[model-inputs] table: expected feature columns present and in order failed, observed " \
        "['z', 'vol_3', 'mean_gap_3']" in text
    assert f"column 'vol_3': finite after scaling (no inf) failed, 1 of {n} rows unexpected, " \
        "e.g. a @ 2020-02-20: inf" in text
    assert f"column 'mean_gap_3': scaled magnitude <= 1000 failed, 1 of {n} rows unexpected, " \
        "e.g. a @ 2020-03-01: 5e+04" in text


def test_model_inputs_nan_after_warm_up_fail(prepared_healthy):
    cfg, prepared = prepared_healthy
    frame = prepared.frame.copy()
    frame.loc[frame.index[20:100], "z"] = np.nan
    gate = validate_model_inputs(frame, prepared.inputs, cfg)
    n = len(warmed_up(frame, prepared.inputs))
    assert re.search(rf"column 'z': NaN after the feature warm-up <= 0\.2 share .* failed, 80 of {n} rows",
                     _lines(gate["failed"])), _lines(gate["failed"])


# ---- config of the gates ----------------------------------------------------------------------

def test_every_check_has_a_severity_the_config_can_override():
    from typing import get_args

    from expectations import ingested, model_inputs
    from lstmflow.config import CheckName

    assert set(get_args(CheckName)) == set(ingested.SEVERITY) | set(model_inputs.SEVERITY)


@pytest.mark.parametrize(("quality", "message"), [
    ({"severity": {"jmp": "warning"}}, "config key 'quality.severity.jmp.[key]'"),
    ({"severity": {"jump": "fatal"}}, "config key 'quality.severity.jump'"),
    ({"max_staleness": "soon"}, "max_staleness 'soon' is not a duration like '3D' or '36h'"),
    ({"bounds": {"value": {"min": 5, "max": 1}}}, "config key 'quality.bounds.value': Value error, "
                                                  "min 5.0 is larger than max 1.0"),
    ({"bounds": {"value": {}}}, "config key 'quality.bounds.value': Value error, give min, max or both"),
    ({"max_jump_ratio": 1}, "config key 'quality.max_jump_ratio'"),
])
def test_bad_gate_config_is_refused_naming_the_key(quality, message):
    from lstmflow.config import ConfigError

    with pytest.raises(ConfigError) as err:
        _cfg("healthy.csv", quality=quality)
    assert message in str(err.value)


def test_data_docs_with_a_relative_folder(tmp_path, monkeypatch):
    """Run folders are usually relative (output_dir: outputs): GE needs an absolute base dir."""
    from expectations.runner import build_docs, gate_context

    monkeypatch.chdir(tmp_path)
    cfg = _cfg("healthy.csv")
    data = ingest(cfg.data)
    ctx = gate_context(Path("rel") / "docs")
    validate_ingested(data.frame, cfg, data.report, ctx=ctx)
    index = build_docs(ctx, Path("rel") / "docs")
    assert (tmp_path / "rel" / "docs").is_dir() and Path(index).is_file()
