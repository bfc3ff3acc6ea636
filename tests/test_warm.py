"""Warm starts (training.warm_start): from a compatible champion's weights over a shorter budget,
never reading test rows, falling back to a cold start when the warm fit loses; repair attempts
that keep the network's shape start from their parent's weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmflow.config import with_overrides
from lstmflow.core import Forecaster
from lstmflow.serve.warm import Start, choose_start, fall_back, incompatible
from tests.conftest import single_fit_config


def tiny(csv, out, **sections):
    """Fits of up to 60 steps, promoted always (the champion the next run may start from)."""
    return single_fit_config(csv, out, {"max_steps": 60, "patience": 3},
                             registry={"promote": "always"}, **sections)


@pytest.mark.parametrize(("change", "compatible"), [
    ("model.hidden_size=32", False), ("model.num_layers=2", False),
    ("forecast.input_size=30", False), ("forecast.horizon=4", False),
    ("preprocess.target_transform=diff", False), ("model.loss=quantile", False),
    ("model.segment_len=1", False), ("model.highway=8", False),
    ("training.learning_rate=0.01", True), ("model.dropout=0.2", True),
    ("training.weight_decay=0.001", True), ("training.max_steps=100", True),
    ("training.seed=3", True), ("evaluation.val_size=50", True),
])
def test_which_changes_make_a_champion_incompatible(sample_slice, tmp_path, change, compatible):
    """The network's shape (units, layers, window, horizon, transform, loss, segments) and its
    inputs decide; the optimiser, regularisation, budget and split do not."""
    old = tiny(sample_slice, tmp_path)
    new = with_overrides(old, [change])
    inputs = ["z", "ret_5"]
    assert (incompatible(old, new, inputs, inputs) is None) == compatible
    if compatible:
        assert "model inputs differ" in incompatible(old, new, inputs, [*inputs, "vol_10"])


@pytest.fixture(scope="module")
def champion(sample_slice, tmp_path_factory):
    """A champion registered from a real fit (the core's, as the training flow saves it)."""
    from lstmflow.data.ingest import ingest
    from lstmflow.serve.register import register
    from lstmflow.serve.registry import registry_dir

    out = tmp_path_factory.mktemp("warm")
    cfg = tiny(sample_slice, out)
    frame = ingest(cfg.data).frame
    core = Forecaster(cfg)
    bounds = core.split(frame)
    fit = core.fit(frame, bounds)
    meta = {"run_id": "champ", "data_fingerprint": "x", "diagnosis": [],
            "gates": {"ingested": True, "model-inputs": True},
            "data": {"series": sorted(bounds), "freq": "B", "step": "1 days"}}
    metrics = core.evaluate(fit).metrics
    register(registry_dir(cfg.output_dir, cfg.name), fit.fitted, metrics, meta, frame, bounds)
    return cfg, frame, bounds, fit


def test_a_warm_start_begins_from_the_champion_over_a_shorter_budget(champion):
    cfg, frame, bounds, cold = champion
    core = Forecaster(cfg)
    prepared = core.prepare(frame, bounds)
    start = choose_start(cfg, prepared, frame, bounds)
    assert start.kind == "warm" and start.version == "champ" and start.champion_val > 0
    warm = core.fit(prepared, init=start.fitted)
    # 0.2 x 60 steps in whole checks of half the cold 10 steps
    assert warm.ok and warm.train.budget["max_steps"] == 15
    assert warm.train.budget["steps_per_check"] == cold.train.budget["steps_per_check"] // 2
    assert warm.train.steps_run <= 15 < cold.train.steps_run or cold.train.steps_run <= 15
    # it starts where the champion ended: its first check is far better than a cold fit's
    assert warm.history[0]["val_loss"] < cold.history[0]["val_loss"]
    never = with_overrides(cfg, ["training.warm_start=never"])
    assert choose_start(never, prepared, frame, bounds).kind == "cold"


def test_a_warm_start_never_reads_test_rows(champion):
    """Every test value changed: the champion's validation figure, the warm fit's curve and
    weights are identical."""
    cfg, frame, bounds, _ = champion
    edited = frame.copy()
    for sid, b in bounds.items():
        rows = edited.index[edited["series_id"].astype(str) == sid][b.val_end:]
        edited.loc[rows, "target"] *= 3.0
    core = Forecaster(cfg)
    outs = []
    for f in (frame, edited):
        prepared = core.prepare(f, bounds)
        start = choose_start(cfg, prepared, f, bounds)
        outs.append((start.champion_val, core.fit(prepared, init=start.fitted)))
    assert outs[0][0] == outs[1][0]
    a, b = outs[0][1], outs[1][1]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in a.history] == \
        [{k: v for k, v in r.items() if k != "seconds"} for r in b.history]
    for name, w in a.model.state_dict().items():
        np.testing.assert_array_equal(w.numpy(), b.model.state_dict()[name].numpy())


def test_an_incompatible_champion_says_which_settings_would_start_warm(champion):
    """A champion that automatic repair trained with other settings cannot start a run on the
    deployment's config; the reason gives the --set that would let it."""
    cfg, frame, bounds, _ = champion
    other = with_overrides(cfg, ["model.hidden_size=32", "model.dropout=0.3"])
    prepared = Forecaster(other).prepare(frame, bounds)
    start = choose_start(other, prepared, frame, bounds)
    assert start.kind == "cold"
    assert f"model.hidden_size is 32, the champion's {cfg.model.hidden_size}" in start.reason
    assert (f"it was trained with --set model.hidden_size={cfg.model.hidden_size} --set "
            f"model.dropout={cfg.model.dropout}") in start.reason


def test_a_champion_of_other_series_gives_a_cold_start_with_the_reason(champion):
    """A one-series file names its series after the file: a nightly file named by date is a
    new series each night, and the champion knows none of them (it crashed here before)."""
    cfg, frame, bounds, _ = champion
    renamed = frame.assign(series_id=frame["series_id"].astype(str) + "-night2")
    moved = {f"{s}-night2": b for s, b in bounds.items()}
    prepared = Forecaster(cfg).prepare(renamed, moved)
    start = choose_start(cfg, prepared, renamed, moved)
    assert start.kind == "cold" and start.fitted is None
    assert "champion champ was trained on other series" in start.reason
    assert "keep the file name from run to run, or set data.series_column" in start.reason


def test_auto_drops_a_warm_fit_that_loses_to_the_champion(champion):
    cfg, frame, bounds, _ = champion
    core = Forecaster(cfg)
    prepared = core.prepare(frame, bounds)
    start = choose_start(cfg, prepared, frame, bounds)
    warm = core.fit(prepared, init=start.fitted)
    assert fall_back(start, warm, cfg) is None or "worse than the champion's" in \
        fall_back(start, warm, cfg)
    strict = Start("warm", "test", start.fitted, "champ", champion_val=1e-9)
    assert "worse than the champion's" in fall_back(strict, warm, cfg)
    always = with_overrides(cfg, ["training.warm_start=always"])
    assert fall_back(strict, warm, always) is None  # 'always' keeps it


def test_a_second_nightly_run_starts_warm_and_says_so(prefect_harness, sample_slice, tmp_path):
    """The flow: the first run trains cold (no champion); the next, on the same data, warm from
    the first run's champion, through evaluation, diagnosis and promotion as always."""
    from flows.training import train_flow

    cfg = tiny(sample_slice, tmp_path / "out")
    first = train_flow(cfg, run_id="night1")
    assert first["training"]["start"] == "cold"
    assert first["training"]["start_reason"] == "no champion to start from"
    second = train_flow(cfg, run_id="night2", force=True)
    t = second["training"]
    assert second["status"] == "completed" and t["start"] == "warm"
    assert t["warm_from"] == "night1" and t["budget"]["max_steps"] < first["training"][
        "budget"]["max_steps"]
    assert t["champion_val_rel_mae"] > 0 and t["warm_val_rel_mae"] > 0
    assert t["learning_rate"] == pytest.approx(  # the warm fit continues at a lower rate
        cfg.training.warm_lr_scale * first["training"]["learning_rate"])
    assert second["promotion"]["champion_before"]["version"] == "night1"
    summary = json.loads((tmp_path / "out" / "runs" / "night2" / "summary.json").read_text())
    assert summary["training"]["start"] == "warm"
    html = (tmp_path / "out" / "runs" / "night2" / "report.html").read_text()
    assert "warm start from champion night1" in html


def test_repair_remedies_that_keep_the_shape_start_from_the_parent():
    from lstmflow.repair.policy import keeps_shape

    assert keeps_shape({"training.learning_rate": "0.0001", "training.gradient_clip": "1"})
    assert keeps_shape({"model.dropout": "0.3", "training.weight_decay": "0.001"})
    assert not keeps_shape({"model.hidden_size": "32"})
    assert not keeps_shape({"forecast.input_size": "104"})
    assert not keeps_shape({"preprocess.target_transform": "diff"})
    # a noisy fit's weights are no start, whatever its remedy changes
    assert not keeps_shape({"training.batch_size": "128"}, "noisy_optimisation")
    assert keeps_shape({"training.batch_size": "128"}, "overfitting")


def test_a_champion_repair_changed_is_adopted_and_the_run_starts_warm(prefect_harness,
                                                                       sample_slice, tmp_path):
    """Last night's repair won with other settings (here a wider network) than the config
    asked: tonight's run on that same config takes them and starts warm from the champion,
    instead of a cold fit and the same repair every night; another config does not."""
    from flows.training import train_flow
    from lstmflow.data.ingest import ingest
    from lstmflow.serve.register import register
    from lstmflow.serve.registry import load_version, registry_dir

    cfg = tiny(sample_slice, tmp_path / "out")
    repaired = with_overrides(cfg, ["model.hidden_size=24"])
    frame = ingest(cfg.data).frame
    core = Forecaster(repaired)
    bounds = core.split(frame)
    fit = core.fit(frame, bounds)
    meta = {"run_id": "night1", "data_fingerprint": "x", "diagnosis": [], "asked": cfg,
            "gates": {"ingested": True, "model-inputs": True},
            "data": {"series": sorted(bounds), "freq": "B", "step": "1 days"}}
    root = registry_dir(cfg.output_dir, cfg.name)
    register(root, fit.fitted, core.evaluate(fit).metrics, meta, frame, bounds)

    prepared = Forecaster(cfg).prepare(frame, bounds)
    start = choose_start(cfg, prepared, frame, bounds)
    assert start.kind == "adopt" and start.sets == ("model.hidden_size=24",)
    other = with_overrides(cfg, ["model.dropout=0.1"])  # another request: not adopted
    assert choose_start(other, Forecaster(other).prepare(frame, bounds), frame,
                        bounds).kind == "cold"

    second = train_flow(cfg, run_id="night2", force=True)
    t = second["training"]
    assert second["status"] == "completed", second.get("reason")
    assert t["start"] == "warm" and t["warm_from"] == "night1", t["start_reason"]
    assert t["adopted"] == ["model.hidden_size=24"]
    assert "automatic repair's choice" in t["start_reason"]
    assert load_version(root / "versions" / "night2").config["model"]["hidden_size"] == 24
