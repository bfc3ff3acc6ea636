"""Automatic repair (training.auto_repair): real Lightning fits on the weekly CO2 sample, the
choice made on the validation period only, and the run's summary and report."""

from __future__ import annotations

import json
import math

import numpy as np

from lstmflow.core import Fitted, Forecaster
from lstmflow.repair.policy import applicable, repair, triggers
from tests.conftest import co2_config, prepared

# a steep optimiser with no clipping: the fit blows up (see tests/test_diagnosis.py CASES);
# 3 validation checks of 2 steps (about one pass over co2_config's 102 training windows each)
DIVERGE = ["training.optimizer=rmsprop", "training.learning_rate=1.0",
           "training.gradient_clip=0", "training.max_steps=6", "training.val_check_steps=2"]


def _repair(cfg, prep, out):
    """The first fit as the flow makes it (the core's), then the repair loop."""
    first = Forecaster(cfg).fit(prep, run_dir=out)
    return repair(first, None, None, out, log=lambda _: None)


def _test_rel_mae(a) -> float:
    """An attempt's relative MAE on the test period (what the choice must not look at), the
    model alone as repair judges it."""
    alone = Fitted(a.cfg, a.fit.model, a.prepared.state)
    scores = Forecaster(a.cfg).evaluate(alone, a.prepared).metrics
    return scores["overall"]["model"]["rel_mae"]


def _problems(record: dict) -> set[str]:
    return {f["finding"] for f in record["findings"] if f["severity"] in ("error", "warning")}


def test_a_diverged_run_is_repaired_and_promoted(prefect_harness, tmp_path):
    """The diverged first fit is refitted with the divergence remedy; the run completes with
    the repaired model, every attempt in summary.json and the report, the promoted model's
    diagnosis first."""
    from flows.training import train_flow

    out = tmp_path / "out"
    cfg = co2_config(out, *DIVERGE, "training.auto_repair=1")
    summary = train_flow(cfg, run_id="repaired")
    assert summary["status"] == "completed"
    first, chosen = summary["attempts"][0], summary["attempts"][-1]
    assert "divergence" in _problems(first) and not first["usable"]
    assert summary["repair"]["chosen"] == 1 and chosen["chosen"] and chosen["usable"]
    assert chosen["overrides"] == ["training.learning_rate=0.1", "training.gradient_clip=1",
                                   "training.optimizer=adamw"]
    assert set(first) >= {"overrides", "val_loss", "findings", "secs"}
    assert math.isfinite(chosen["val_loss"])
    assert first["val_loss"] is None or chosen["val_loss"] < first["val_loss"]
    assert chosen["val_rel_mae"] < first["val_rel_mae"]
    assert "divergence" not in {f["finding"] for f in summary["diagnosis"]}  # the chosen fit's
    assert summary["promotion"]["promoted"]
    run_dir = out / "runs" / "repaired"
    assert json.loads((run_dir / "history.json").read_text()) == \
        json.loads((run_dir / "attempts" / "1" / "history.json").read_text())
    html = (run_dir / "report.html").read_text()
    assert "Repair attempts" in html and "training.gradient_clip=1" in html
    assert html.index("<h2>Diagnosis</h2>") < html.index("Repair attempts")
    # the champion holds the repaired config, yet the same data and the same asked-for config
    # again have nothing new to teach: the next scheduled run skips training
    again = train_flow(cfg, run_id="again")
    assert again.get("skipped") and "nothing changed since champion repaired" in \
        again["promotion_reason"]


def test_auto_repair_off_is_a_single_fit(prefect_harness, tmp_path):
    """auto_repair: 0 is the run as before: one fit, no attempts, a diverged fit fails."""
    from flows.training import train_flow

    out = tmp_path / "out"
    cfg = co2_config(out, *DIVERGE, "training.auto_repair=0")
    state = train_flow(cfg, run_id="single", return_state=True)
    assert state.is_failed()
    run_dir = out / "runs" / "single"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "attempts" not in summary and not (run_dir / "attempts").exists()
    assert summary["diagnosis"][0]["finding"] == "divergence"


def test_the_choice_never_reads_the_test_period(tmp_path):
    """The same fits with a test period halved (x0.5) make the same
    attempts, figures, findings and choice; and the choice is the best on validation even
    where another attempt is better on test."""
    runs = {}
    for scale in (None, 0.5):
        cfg = co2_config(tmp_path / str(scale), *DIVERGE, "training.auto_repair=2",
                         "model.segment_len=1")  # the step-by-step fits this case was built on
        prep = prepared(cfg, scale)
        runs[scale] = (_repair(cfg, prep, tmp_path / str(scale)), prep)
    (plain, _), (scaled, prep) = runs[None], runs[0.5]
    keep = ("overrides", "val_rel_mae", "val_mae", "val_loss", "usable", "chosen")
    assert [{k: r[k] for k in keep} for r in plain.records()] == \
        [{k: r[k] for k in keep} for r in scaled.records()]
    assert [r["findings"] for r in plain.records()] == [r["findings"] for r in scaled.records()]
    assert len(scaled.attempts) == 3
    val = [a.val["val_rel_mae"] if a.usable else np.inf for a in scaled.attempts]
    test = [_test_rel_mae(a) if a.usable else np.inf for a in scaled.attempts]
    assert scaled.chosen == int(np.argmin(val))
    assert int(np.argmin(test)) != scaled.chosen, (val, test)  # test would choose differently


def test_only_findings_a_refit_can_act_on_trigger_a_refit():
    """A remedy outside what a refit changes (the data gates) is not applied; the time budget
    is the run's; a model worse than naive on a random walk is no reason to refit."""
    assert applicable(["quality.enabled=true", "model.loss=huber"]) is None
    assert applicable(["training.max_steps=4000", "training.max_time_minutes=60"]) == \
        {"training.max_steps": "4000"}
    assert applicable([]) is None
    worse = {"finding": "worse_than_baseline", "severity": "warning"}
    walk = {"finding": "no_signal", "severity": "info"}
    assert triggers(worse, [worse]) and not triggers(worse, [worse, walk])
    assert not triggers(walk, [walk])
    assert triggers({"finding": "divergence", "severity": "error"}, [walk])


def test_report_draws_the_learning_rate_finder_curve_with_the_chosen_rate():
    """`learning_rate: auto`'s lr_find.json is drawn (a PNG), and only when the rate was found."""
    from lstmflow.report.html import build_html

    rates = list(np.geomspace(1e-5, 1e-1, 20))
    found = {"lr": rates, "loss": [1.0 - 0.03 * i for i in range(19)] + [None],
             "suggestion": 3e-3, "chosen": 3e-3, "steps": 20}
    summary = {"run_id": "r", "status": "completed", "diagnosis": []}
    history = [{"epoch": 0, "train_loss": 1.0, "val_loss": 1.0, "lr": 3e-3}]
    drawn = build_html(summary, history, None, found)
    assert "alt='learning-rate finder' src='data:image/png;base64," in drawn
    assert "learning-rate finder" not in build_html(summary, history, None, None)


def test_the_same_overrides_are_never_tried_twice(tmp_path):
    """A remedy that resolves to a config already fitted (clamped at a bound, or the same
    value written differently) makes no new attempt; an untried one does."""
    import pandas as pd

    from lstmflow.repair.policy import Candidate, plan
    from lstmflow.repair.selection import KEY

    cfg = co2_config(tmp_path, "training.learning_rate=0.001")
    none = pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])

    def attempt(k, overrides, *remedies):
        found = [{"finding": "divergence", "severity": "error",
                  "remedy": {"overrides": list(r)}} for r in remedies]
        return Candidate(k, overrides, cfg, None, found, none, 0.0)

    first = attempt(0, {}, ["training.learning_rate=0.0010"])  # the run's own rate
    assert plan([first], cfg) is None
    first = attempt(0, {}, ["training.learning_rate=0.0001"])
    parent, overrides, why = plan([first], cfg)
    assert (parent.index, overrides, why) == (0, {"training.learning_rate": "0.0001"},
                                              "divergence")
    again = attempt(1, overrides, ["training.learning_rate=0.00010"], ["training.seed=7"])
    assert plan([first, again], cfg)[1] == {"training.learning_rate": "0.0001",
                                            "training.seed": "7"}


def test_a_remedy_the_config_refuses_is_skipped_and_said(tmp_path):
    """A remedy that makes an invalid config (a window shorter than an explicit
    model.segment_len) is not tried; the next finding's remedy is, and the refusal is said
    with the finding, the overrides and the config's own error."""
    import pandas as pd

    from lstmflow.repair.policy import Candidate, plan
    from lstmflow.repair.selection import KEY

    cfg = co2_config(tmp_path, "model.segment_len=8")
    none = pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])
    short = {"finding": "too_long_window", "severity": "warning",
             "remedy": {"overrides": ["forecast.input_size=4"]}}
    smaller = {"finding": "overfitting", "severity": "warning",
               "remedy": {"overrides": ["model.dropout=0.3"]}}
    first = Candidate(0, {}, cfg, None, [short, smaller], none, 1.0)
    invalid: dict[str, str] = {}
    assert plan([first], cfg, invalid=invalid)[1] == {"model.dropout": "0.3"}
    (why,) = invalid
    assert invalid[why] == "too_long_window"
    assert "--set forecast.input_size=4" in why and "segment_len (8)" in why
    first.findings = [short]
    assert plan([first], cfg, invalid=invalid) is None


def test_refits_share_a_time_budget_of_the_first_fits_time(tmp_path):
    """training.repair_time_factor (default 0.6) x the usable first fit's time bounds the refits
    together (within max_time_minutes), so a run's fits stay within about 1.6x one fit; at
    least 5 s when a finding says the first fit was cut short by its problem (a plateau), not
    when it only overfitted; a first fit that broke bounds nothing but the run's budget."""
    from types import SimpleNamespace

    import pandas as pd

    from lstmflow.repair.policy import Candidate, time_left
    from lstmflow.repair.selection import KEY

    cfg = co2_config(tmp_path, "training.max_time_minutes=10")
    point = pd.DataFrame([[0] * len(KEY) + [1.0, 1.0, 1.0]], columns=[*KEY, "actual", "model",
                                                                       "naive"])

    def attempt(k, secs, usable=True, found=("plateau",)):
        result = SimpleNamespace(train=object(), history=[]) if usable else None
        return Candidate(k, {}, cfg, result, [{"finding": f} for f in found], point, secs)

    first = attempt(0, 100.0)
    assert time_left([first], cfg) == 60.0  # factor 0.6: the refits' share of one fit's time
    assert time_left([first, attempt(1, 35.0)], cfg) == 25.0  # under half: no further refit
    quick = attempt(0, 0.5)  # e.g. a fit cut short by its own problem (too few steps)
    assert time_left([quick], cfg) == 5.0 and time_left([quick, attempt(1, 4.0)], cfg) == 1.0
    ran = attempt(0, 0.3, found=("overfitting",))  # a sub-second fit that ran its course: its
    assert time_left([ran], cfg) == 5.0  # share (0.18 s) is less than a trainer takes to start
    ran = attempt(0, 20.0, found=("overfitting",))
    assert math.isclose(time_left([ran], cfg), 12.0)
    wide = cfg.model_copy(update={"training": cfg.training.model_copy(
        update={"repair_time_factor": 3.0})})
    assert time_left([first, attempt(1, 60.0)], wide) == 240.0
    assert time_left([first, attempt(1, 60.0)], wide.model_copy(update={
        "training": wide.training.model_copy(update={"max_time_minutes": 3.0})})) == 20.0
    broke = attempt(0, 2.0, usable=False)
    assert time_left([broke, attempt(1, 60.0)], cfg) == 600.0 - 62.0


def test_a_remedy_that_only_lengthens_the_fit_needs_the_time_to_run_past_it(tmp_path):
    """not_converged's remedy (more steps) with the same seed replays the first fit step for
    step until it runs past it: with less time left than that it is not tried, the next
    finding's remedy is; a remedy that changes more than the length always may be."""
    from types import SimpleNamespace

    import pandas as pd

    from lstmflow.repair.policy import Candidate, plan
    from lstmflow.repair.selection import KEY

    cfg = co2_config(tmp_path)
    none = pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])
    longer = {"finding": "not_converged", "severity": "warning",
              "remedy": {"overrides": ["training.max_steps=6000"]}}
    smaller = {"finding": "overfitting", "severity": "warning",
               "remedy": {"overrides": ["model.dropout=0.3"]}}
    ran = SimpleNamespace(steps_run=3000, checkpoint=None)  # no checkpoint to continue from
    first = Candidate(0, {}, cfg, SimpleNamespace(train=ran), [longer, smaller], none, 100.0)
    assert plan([first], cfg)[1] == {"training.max_steps": "6000"}  # time enough
    assert plan([first], cfg, left_s=130.0)[1] == {"training.max_steps": "6000"}
    assert plan([first], cfg, left_s=100.0)[1] == {"model.dropout": "0.3"}
    first.findings = [longer]
    assert plan([first], cfg, left_s=100.0) is None
    both = {**longer, "remedy": {"overrides": ["training.max_steps=6000",
                                               "training.learning_rate=0.01"]}}
    first.findings = [both]
    assert plan([first], cfg, left_s=100.0)[1] == {"training.max_steps": "6000",
                                                   "training.learning_rate": "0.01"}
    first.findings = [longer]  # with a checkpoint the fit continues: any time left is new steps
    ran.checkpoint = str(tmp_path / "last.ckpt")
    (tmp_path / "last.ckpt").write_bytes(b"ckpt")
    assert plan([first], cfg, left_s=30.0)[1] == {"training.max_steps": "6000"}


def test_a_remedy_that_only_lengthens_the_fit_continues_it_from_its_checkpoint(tmp_path):
    """More steps continue the parent's fit from its last checkpoint (clock at zero, no stop
    pending) instead of replaying it: the curve is the parent's checks, then new ones, and it is
    the curve a fresh fit with the longer budget records."""
    import pandas as pd
    import torch

    from lstmflow.fit.checkpoint import FitState
    from lstmflow.repair.policy import Candidate, _Stats, attempt_dir, refit
    from lstmflow.repair.selection import KEY
    from lstmflow.runs import checkpoint_path

    short = ["training.max_steps=60", "training.val_check_steps=20", "training.patience=50"]
    cfg = co2_config(tmp_path / "out", *short)
    prep = prepared(cfg)
    run = tmp_path / "run"
    result = Forecaster(cfg).fit(prep, run_dir=run)
    first = result.train
    assert len(first.history) == 3
    none = pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])
    parent = Candidate(0, {}, cfg, result, [], none, first.seconds)
    said: list[str] = []
    longer = refit(_Stats(), 1, {"training.max_steps": "100"}, parent, "not_converged", result,
                   None, None, run, False, 600.0, said.append)
    assert any("continues attempt 0's fit from its checkpoint" in s for s in said)
    assert longer.fit.continued_from_epoch == 3  # started after the parent's three checks
    assert longer.fit.resumed_from_epoch is None  # the run itself was not resumed
    assert longer.history[:3] == first.history  # the parent's curve, then two new checks
    assert len(longer.history) == 5
    seeded = torch.load(checkpoint_path(attempt_dir(run, 1)), weights_only=True)
    assert seeded["global_step"] == 100
    fresh = Forecaster(co2_config(tmp_path / "o2", *short, "training.max_steps=100")).fit(
        prep, run_dir=tmp_path / "fresh")
    # the same curve up to dropout's draws (the checkpoint keeps no RNG state)
    np.testing.assert_allclose([r["val_loss"] for r in longer.history],
                               [r["val_loss"] for r in fresh.history], rtol=1e-2)
    # what the attempt resumed from: the parent's state with the clock at zero and no stop
    from lstmflow.repair.extend import seed_checkpoint

    seed_checkpoint(checkpoint_path(run), tmp_path / "seeded.ckpt", "attempt-last.ckpt")
    ckpt = torch.load(tmp_path / "seeded.ckpt", weights_only=True)
    timers = [v for k, v in ckpt["callbacks"].items() if k.startswith("Timer")]
    assert timers and all(t == 0.0 for t in timers[0]["time_elapsed"].values())
    assert ckpt[FitState.KEY] == {"should_stop": False} and ckpt["global_step"] == 60


def test_what_a_continued_fit_cannot_honour_is_refitted_and_the_lr_finder_result_goes_along(
        tmp_path):
    """Continuing restores the schedule and the patience from the checkpoint: under cosine, or
    for a patience remedy, the attempt refits instead. The parent's lr_find.json goes with the
    seeded checkpoint (learning_rate: auto reuses it rather than finding another rate)."""
    from types import SimpleNamespace

    import pandas as pd
    import torch

    from lstmflow.repair.extend import continues_from, seed_checkpoint
    from lstmflow.repair.policy import Candidate
    from lstmflow.repair.selection import KEY

    ckpt = tmp_path / "parent" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"callbacks": {"Timer": {"time_elapsed": {"train": 5.0}}}, "global_step": 9}, ckpt)
    (tmp_path / "parent" / "lr_find.json").write_text('{"chosen": 0.004}')
    none = pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])
    fit = SimpleNamespace(steps_run=9, checkpoint=str(ckpt))

    def parent(*sets):
        return Candidate(0, {}, co2_config(tmp_path / "o", *sets), SimpleNamespace(train=fit), [],
                         none, 1.0)

    more = {"training.max_steps": "6000"}
    assert continues_from(parent(), more) == ckpt
    assert continues_from(parent("training.scheduler=cosine"), more) is None
    assert continues_from(parent(), {"training.patience": "20"}) is None
    assert continues_from(parent(), {**more, "model.dropout": "0.3"}) is None
    seed_checkpoint(ckpt, tmp_path / "attempt" / "checkpoints" / "last.ckpt", "attempt-last.ckpt")
    assert (tmp_path / "attempt" / "lr_find.json").read_text() == '{"chosen": 0.004}'


def test_a_fit_cut_by_its_time_limit_continues_past_the_cut(tmp_path):
    """A parent stopped by max_time (its checkpoint holds the Timer's stop) still continues:
    the copy clears the stop (without that, checked: no new step), and the continued fit runs
    new steps."""
    import pandas as pd

    from lstmflow.repair.policy import Candidate, _Stats, refit
    from lstmflow.repair.selection import KEY

    cfg = co2_config(tmp_path / "out", "training.max_steps=200", "training.val_check_steps=20",
                     "training.patience=50",
                     "training.max_time_minutes=0.002")  # about 0.1 s: cut after a few steps
    prep = prepared(cfg)
    run = tmp_path / "run"
    result = Forecaster(cfg).fit(prep, run_dir=run)
    first = result.train
    assert first.steps_run < 200  # the clock ended it
    none = pd.DataFrame(columns=[*KEY, "actual", "model", "naive"])
    parent = Candidate(0, {}, cfg, result, [], none, first.seconds)
    longer = refit(_Stats(), 1, {"training.max_steps": "400"}, parent, "not_converged", result,
                   None, None, run, False, 600.0, lambda _: None)
    assert longer.fit.steps_run > first.steps_run
    assert len(longer.history) > len(first.history)
