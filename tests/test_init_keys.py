"""`lstmflow init` writes the keys a user changes (COMMON_KEYS): the inferred ones with their
reason, the others at the config's default with what they do, plus only the keys the file is
read with; the written file loads to the same config as the inferred keys alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from lstmflow.config import ModelConfig, RegistryConfig, TrainingConfig, build_config, load_config
from lstmflow.config.keys import COMMON_KEYS
from lstmflow.init.build import FILE_KEYS, NOT_IN_WIDE, config_field, infer_config, with_common_keys
from lstmflow.init.render import LINE_WIDTH, _without_asides, describe, render_yaml
from tests.conftest import random_walk

QUIET = {"log": lambda _: None}


def _panel(tmp_path):
    """Two daily series keyed by 'site', with a covariate."""
    parts = [random_walk(500, seed=s).assign(site=site) for s, site in enumerate(("a", "b"))]
    df = pd.concat(parts)
    df["temp"] = np.random.default_rng(1).normal(size=len(df))
    path = tmp_path / "panel.csv"
    df[["site", "date", "value", "temp"]].to_csv(path, index=False)
    return path


def _european(tmp_path):
    """One series, no key, no covariate: ';' between fields, ',' decimals, d/m/Y dates."""
    walk = random_walk(400)
    path = tmp_path / "eu.csv"
    path.write_text("date;value\n" + "".join(
        f"{d:%d/%m/%Y};{v:.4f}\n".replace(".", ",")
        for d, v in zip(walk.date, walk.value, strict=True)))
    return path


def _holed(tmp_path):
    """Hourly readings with a long hole: the file fails a quality check (quality.severity)."""
    walk = random_walk(3000, seed=7, freq="h")
    path = tmp_path / "holed.csv"
    walk.drop(index=np.r_[500:1400, 2450:2470, 2750:2770]).to_csv(path, index=False)
    return path


def _wide(tmp_path):
    """One column per series: data.layout wide."""
    walk = random_walk(500)
    path = tmp_path / "wide.csv"
    pd.DataFrame({"date": walk.date, "north": walk.value,
                  "south": random_walk(500, seed=3).value}).to_csv(path, index=False)
    return path


def _leaves(node: dict, prefix: str = "") -> set[str]:
    """The dotted keys of a written config; quality.severity's checks count as one key."""
    out = set()
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted != "quality.severity":
            out |= _leaves(value, dotted + ".")
        else:
            out.add(dotted)
    return out


@pytest.fixture(scope="module", params=["panel", "european", "holed", "wide"])
def written(request, tmp_path_factory):
    """init (no transform fits) on a generated file: the inference, the text, its path."""
    tmp = tmp_path_factory.mktemp(request.param)
    path = {"panel": _panel, "european": _european, "holed": _holed, "wide": _wide}[
        request.param](tmp)
    inf = infer_config(str(path), output_dir=str(tmp / "outputs"), try_transforms=False, **QUIET)
    text = render_yaml(inf, f"lstmflow init --data {path.name} --no-fit")
    out = tmp / "config.yaml"
    out.write_text(text, encoding="utf-8")
    return request.param, inf, text, out


def test_the_written_file_loads_to_the_config_of_the_inferred_keys_alone(written):
    """The added keys only restate defaults: the same config, key for key."""
    _, inf, _, path = written
    assert load_config(path).model_dump() == build_config(inf.raw).model_dump()


def test_every_common_key_is_written_and_no_other_but_those_that_read_the_file(written):
    case, inf, text, _ = written
    keys = _leaves(yaml.safe_load(text))
    wide = case == "wide"
    assert (inf.raw["data"].get("layout") == "wide") == wide
    expected = {k for k in COMMON_KEYS if not (wide and k in NOT_IN_WIDE)}
    assert expected <= keys, expected - keys
    assert keys - set(COMMON_KEYS) <= set(FILE_KEYS), keys - set(COMMON_KEYS)
    if wide:  # every column but the timestamp is a series: no target, key or covariates
        assert not keys & set(NOT_IN_WIDE)
        assert "layout: wide  # one series per column" in text and "do not apply" in text
    if case == "holed":
        assert "quality.severity" in keys and "gap: warning" in text
    if case == "european":
        assert {"data.delimiter", "data.decimal", "data.timestamp_format"} <= keys


def test_keys_without_a_series_column_or_covariates_are_written_empty(written):
    case, _, text, _ = written
    data = yaml.safe_load(text)["data"]
    if case == "panel":
        assert data["series_column"] == "site" and data["covariates"] == ["temp"]
    elif case != "wide":
        assert data["series_column"] is None and data["covariates"] == []
        assert "  series_column: null  # (default) Column naming the series" in text
        assert "  covariates: []  # (default) Extra numeric input columns" in text


def test_defaults_come_from_the_config_models_with_their_description(written):
    case, inf, text, _ = written
    raw = yaml.safe_load(text)
    assert raw["model"]["hidden_size"] == ModelConfig.model_fields["hidden_size"].default
    assert raw["training"]["seed"] == TrainingConfig.model_fields["seed"].default
    assert raw["registry"]["min_improvement"] == RegistryConfig.model_fields[
        "min_improvement"].default
    _, added = with_common_keys(inf.raw)
    assert {"model.hidden_size", "training.learning_rate", "registry.promote"} <= added
    lines = text.splitlines()
    for key in added:
        section, name = key.split(".") if "." in key else ("", key)
        field = config_field(key)
        (line,) = [ln for ln in lines if ln.startswith(f"{'  ' if section else ''}{name}: ")
                   and (not section or _section_of(lines, ln) == section)]
        assert "  # (default) " in line, line
        said = line.split("  # (default) ", 1)[1].removesuffix("...")
        assert any(d.startswith(said) for d in (field.description,
                                                _without_asides(field.description))), line
        assert len(line) <= LINE_WIDTH, line
    inferred = set(COMMON_KEYS) - added - (set(NOT_IN_WIDE) if case == "wide" else set())
    for key in inferred:  # a reason or the key's description
        assert key in inf.why or _comment(lines, key), key


def _section_of(lines: list[str], line: str) -> str:
    i = lines.index(line)
    return next(ln.split(":")[0] for ln in reversed(lines[:i]) if ln and not ln.startswith(" "))


def _comment(lines: list[str], key: str) -> bool:
    name = key.split(".")[-1]
    return any(ln.lstrip().startswith(f"{name}: ") and "  # " in ln for ln in lines)


def test_the_header_ends_by_pointing_to_the_reference(written):
    _, _, text, _ = written
    header = [ln for ln in text.splitlines() if ln.startswith("#")]
    assert text.splitlines()[len(header)].startswith("name: ")  # the header, then the keys
    assert header[-1] == "# Every other key keeps its default; all keys are documented in " \
                         "docs/config.md"


def test_descriptions_are_cut_to_their_first_sentence_at_a_clause():
    assert describe("Seed for torch, numpy and python.", 80) == "Seed for torch, numpy and python"
    assert describe("Wall-time budget in minutes (all attempts together); stops cleanly. More.",
                    60) == "Wall-time budget in minutes (all attempts together)..."
    assert describe("Initial learning rate in (0, 1] (3e-3 converges within the step budget "
                    "with clipping), or 'auto': found by the finder.", 50) == \
        "Initial learning rate in (0, 1], or 'auto'..."
    assert describe("Lag of the seasonal-naive baseline (e.g. 7 daily, 24 hourly).", 80) == \
        "Lag of the seasonal-naive baseline (e.g. 7 daily, 24 hourly)"
