"""`lstmflow tune`: real Optuna (SQLite storage), real Lightning on the tiny sample slice, the
flow through the session's Prefect harness."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from lstmflow.config import ConfigError, build_config, with_overrides
from tests.conftest import small_config_dict

TUNE = {"trials": 3, "startup_trials": 1, "warmup_checks": 1, "seed": 3, "max_steps": 12,
        "space": {"input_size": [16, 24], "hidden_size": [4, 16], "batch_size": [32, 64]}}
# rmsprop at a rate near 1 without clipping: the loss blows up in the first check
DIVERGE = ["tune.space.learning_rate=[0.5, 1.0]", "training.optimizer=rmsprop",
           "training.gradient_clip=0", "tune.space.target_transform=[level]", "tune.prune=none"]


def tune_cfg(csv, out, **sections):
    raw = small_config_dict(csv, out, tune=TUNE, runtime={"concurrent_runs": 1, "workers": 2})
    raw["training"]["max_steps"] = 24  # the user's budget: each trial is capped at 12 steps
    raw.update(sections)
    return build_config(raw)


def frame_of(cfg):
    from lstmflow.data.ingest import ingest

    return ingest(cfg.data).frame


def tune(cfg, run_id):
    from flows.tune import tune_flow

    state = tune_flow(cfg, run_id=run_id, return_state=True)
    run_dir = cfg.output_dir and __import__("pathlib").Path(cfg.output_dir) / "runs" / run_id
    return state, json.loads((run_dir / "tune.json").read_text()), run_dir


@pytest.fixture(scope="module")
def resumed(prefect_harness, sample_slice, tmp_path_factory):
    """Two tune runs on one study: 3 trials, then 2 more."""
    cfg = tune_cfg(sample_slice, tmp_path_factory.mktemp("tune"))
    first = tune(cfg, "first")
    second = tune(with_overrides(cfg, ["tune.trials=2"]), "second")
    return cfg, first, second


def test_a_rerun_continues_the_stored_study(resumed):
    cfg, (s1, first, _), (s2, second, run_dir) = resumed
    assert s1.is_completed() and s2.is_completed(), (s1.message, s2.message)
    assert first["stored_before"] == 0 and first["this_run"] == [0, 1, 2]
    assert second["stored_before"] == 3 and second["this_run"] == [3, 4]
    assert [t["number"] for t in second["trials"]] == [0, 1, 2, 3, 4]
    assert second["trials"][:3] == first["trials"]  # the stored trials, read back unchanged
    assert first["storage"] == second["storage"] == str(
        (cfg.output_dir and run_dir.parents[1] / "tune" / "test.db").resolve())
    # a new study starts from the smallest model of the ranges, in the config's own transform
    [start] = [t["params"] for t in second["trials"] if t["start"]]
    assert (start["hidden_size"], start["num_layers"], start["dropout"]) == (4, 1, 0.0)
    assert start["target_transform"] == "log_return"
    for t in second["trials"]:
        assert t["state"] in ("complete", "pruned")
        if t["state"] == "complete":
            assert t["value"] > 0 and len(t["folds"]) == 1 and t["checks"] == [3]
        else:
            assert t["finding"] and t["reason"].startswith(t["finding"])
    best = min((t for t in second["trials"] if t["state"] == "complete"),
               key=lambda t: t["value"])
    assert second["best"] == best


def test_the_run_writes_best_yaml_a_report_and_artifacts(resumed, capsys):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from lstmflow.cli import main

    _, _, (state, summary, run_dir) = resumed
    best = yaml.safe_load((run_dir / "best.yaml").read_text())
    params = summary["best"]["params"]
    assert best["model"]["hidden_size"] == params["hidden_size"]
    assert best["training"]["learning_rate"] == pytest.approx(params["learning_rate"])
    assert best["forecast"]["input_size"] == params["input_size"]
    html = (run_dir / "tune.html").read_text()
    for part in ("Optimisation history", "Parameter importances", "Pruned and failed trials",
                 "too few completed trials for parameter importances"):
        assert part in html
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["tune-trials", "tune-summary", "tune-report"])))
    mine = {a.key for a in arts if a.flow_run_id == state.state_details.flow_run_id}
    assert mine == {"tune-trials", "tune-summary", "tune-report"}
    (run_dir / "tune.html").unlink()  # `lstmflow report` rebuilds it from tune.json
    assert main(["report", "second", "--output-dir", str(run_dir.parents[1])]) == 0
    assert capsys.readouterr().out.strip() == str((run_dir / "tune.html").resolve())
    assert (run_dir / "tune.html").read_text() == html


def test_best_yaml_trains_with_lstmflow_train(resumed, capsys):
    from lstmflow.cli import main

    _, _, (_, summary, run_dir) = resumed
    assert main(["train", "--config", str(run_dir / "best.yaml")]) == 0, capsys.readouterr().err
    [path] = run_dir.parent.glob("*/summary.json")  # the tune runs keep tune.json
    trained = json.loads(path.read_text())
    assert trained["config"]["model"]["hidden_size"] == summary["best"]["params"]["hidden_size"]
    assert trained["config"]["training"]["max_steps"] == 24  # the user's budget, not the cap


def test_a_diverging_trial_is_pruned_with_the_finding_named(sample_slice, tmp_path):
    from lstmflow.tune.study import run_worker, trial_records

    cfg = with_overrides(tune_cfg(sample_slice, tmp_path), DIVERGE)
    assert run_worker([frame_of(cfg)], cfg, 0, 1, None, 1) == [0]
    [trial] = trial_records(cfg)
    assert trial.state == "pruned" and trial.finding == "divergence"
    assert trial.reason.startswith("divergence: the train loss reached")
    assert "x what a constant forecast scores" in trial.reason
    assert trial.checks == 1  # stopped at its first validation check, not at the budget's end


def test_trials_never_read_the_test_part(sample_slice, tmp_path):
    """The same trial on data whose test rows are scaled 1000x scores to the last bit the same."""
    from lstmflow.tune.frames import tune_frames
    from lstmflow.tune.objective import evaluate
    from lstmflow.tune.space import capped, start_params, trial_config

    cfg = tune_cfg(sample_slice, tmp_path)
    cfg = capped(trial_config(cfg, start_params(cfg)), 1)
    frame = frame_of(cfg)
    spoiled = frame.copy()
    pos = spoiled.groupby("series_id").cumcount(ascending=False)
    spoiled.loc[pos < cfg.evaluation.test_size, "target"] *= 1000
    assert not np.allclose(frame["target"], spoiled["target"], equal_nan=True)
    clean, dirty = evaluate([frame], cfg), evaluate([spoiled], cfg)
    assert clean.value == dirty.value and clean.val_loss == dirty.val_loss
    # with folds: one fit per walk-forward fold, the objective their mean
    two = with_overrides(cfg, ["tune.folds=2", "backtest.step=30"])
    frames = tune_frames(frame, two)
    assert [len(f) for f in frames] == [len(frame) - 60, len(frame)]
    out = evaluate(frames, two)
    assert len(out.folds) == 2 and out.value == pytest.approx(np.mean(out.folds))


@pytest.mark.parametrize(("sets", "message"), [
    (["tune.space.hidden_size=[64, 8]"], "'tune.space.hidden_size': Value error, low 64 is above "
                                         "high 8"),
    (["tune.space.learning_rate=[0, 0.1]"], "config key 'tune.space.learning_rate.0'"),
    (["tune.space.dropout=[0.1]"], "'tune.space.dropout': Value error, must be a [low, high] pair"),
    (["tune.space.target_transform=[diff, diff]"], "repeats a value"),
    (["tune.space.target_transform=[logit]"], "config key 'tune.space.target_transform.0'"),
    (["tune.space.units=[1, 2]"], "config key 'tune.space.units': unknown key"),
    (["tune.trials=0"], "config key 'tune.trials'"),
    (["tune.study=a/b"], "config key 'tune.study'"),
])
def test_a_bad_tune_section_is_refused_naming_the_key(sample_slice, tmp_path, sets, message):
    cfg = tune_cfg(sample_slice, tmp_path)
    with pytest.raises(ConfigError, match="tune") as err:
        with_overrides(cfg, sets)
    assert message in str(err.value)


def test_cli_refuses_a_bad_flag_before_any_work(sample_slice, tmp_path, capsys):
    from lstmflow.cli import main

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(small_config_dict(sample_slice, tmp_path / "out")))
    assert main(["tune", "--config", str(path), "--trials", "0"]) == 2
    assert "config key 'tune.trials'" in capsys.readouterr().err
    assert main(["tune", "--config", str(path), "--timeout", "-5"]) == 2
    assert "config key 'tune.timeout_minutes'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
