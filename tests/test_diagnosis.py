"""Each training pathology induced on real data with a real Lightning fit, and named by the
diagnosis from what the run recorded: the detectors are never shown the config."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from lstmflow.config import apply_overrides, build_config, load_config
from lstmflow.fit.diagnosis import VOCABULARY, blocking, diagnose, fit_broken
from lstmflow.fit.diagnosis.record import Finding
from lstmflow.fit.diagnosis.remedies import CAUSES, REMEDIES
from tests.conftest import HEALTHY, co2_config, run, small_config_dict

ROOT = Path(__file__).resolve().parents[1]


def named(findings: list[dict], worst_first: str = "warning") -> dict[str, str]:
    """{finding: severity} of the findings at `worst_first` or worse."""
    keep = ("error",) if worst_first == "error" else ("error", "warning")
    return {f["finding"]: f["severity"] for f in findings if f["severity"] in keep}


def blind(attempt) -> list[dict]:
    """The diagnosis from the recorded history, metrics and data statistics only. Of the config
    it is told the budget's kind alone, which names the history rows in the evidence ('check 2
    (step 4)' under a step budget, 'epoch 2' under the deprecated max_epochs): nothing a
    detector could judge by."""
    kind = {"training": {"max_epochs": attempt.fit.cfg.training.max_epochs}}
    found = diagnose(attempt.history, attempt.metrics, attempt.stats, kind)
    assert [f["finding"] for f in found] == [f["finding"] for f in attempt.findings]
    assert [f["evidence"] for f in found] == [f["evidence"] for f in attempt.findings]
    return found


# checks of 2 steps: about one pass over the 102 training windows of co2_config (batch 64)
CHECKS = ["training.val_check_steps=2"]
# id, overrides on the co2 config, test-period factor, finding, lowest severity
CASES = [
    ("divergence", ["training.optimizer=rmsprop", "training.learning_rate=1.0",
                    "training.gradient_clip=0", "training.max_steps=6", *CHECKS], None,
     "divergence", "error"),
    ("underfitting", ["model.hidden_size=1", "training.max_steps=4", *CHECKS,
                      "training.learning_rate=0.001"], None, "underfitting", "warning"),
    ("plateau", ["training.learning_rate=0.000001", "training.max_steps=8", *CHECKS], None,
     "plateau", "warning"),
    ("exploding", ["model.hidden_size=32", "model.num_layers=4", "training.optimizer=rmsprop",
                   "training.learning_rate=1.0", "training.gradient_clip=0",
                   "preprocess.target_transform=level", "training.max_steps=4", *CHECKS,
                   "model.dropout=0", "training.scheduler=none"], None, "exploding_gradients",
     "warning"),
    ("shift", HEALTHY, 3.0, "distribution_shift", "warning"),
    # a x3 level jump under a return target: the scaled returns do not move, the levels do
    ("level_shift_return", [*HEALTHY, "preprocess.target_transform=log_return"], 3.0,
     "distribution_shift", "warning"),
]


@pytest.mark.parametrize(("case", "sets", "scale_test", "expected", "severity"), CASES,
                         ids=[c[0] for c in CASES])
def test_induced_pathology_is_named(case, sets, scale_test, expected, severity, tmp_path):
    cfg = co2_config(tmp_path, *sets)
    found = named(blind(run(cfg, scale_test)))
    assert expected in found, found
    assert severity == "warning" or found[expected] == "error"


def test_overfitting_on_a_few_hundred_points(sample_slice, tmp_path):
    """A large unregularised model trained long on ~500 daily returns per series."""
    raw = small_config_dict(sample_slice, tmp_path)
    raw["model"].update(hidden_size=64, dropout=0.0)
    # stride 2 (3 for 2-step segments): 328 windows; 8 checks of 8 steps, about 1.5 passes each
    # (val loss 0.571 at check 2, 0.638 by check 8; 6-step checks rose only 4.5%, under 5%)
    raw["training"].update(max_steps=64, val_check_steps=8, patience=8, window_stride=2,
                           weight_decay=0.0, learning_rate=0.01, scheduler="none")
    cfg = build_config(raw)
    found = {f["finding"]: f for f in blind(run(cfg))}
    assert "overfitting" in found, found
    over = found["overfitting"]  # daily returns are random walks: served at naive's level the
    if over["severity"] == "info":  # overfit cost nothing, and the evidence says why
        assert "no_signal" in found and "expected on a random walk" in over["evidence"]
    else:
        assert over["severity"] == "warning"


def test_underfitting_is_named_on_a_random_walk_too(sample_slice, tmp_path):
    """Daily returns have nothing to learn (no_signal), but a one-unit LSTM that never reaches
    the constant forecast's training loss still underfits; a working fit there does not."""
    raw = small_config_dict(sample_slice, tmp_path)
    raw["training"].update(max_steps=8, learning_rate=0.001)  # two checks
    weak = build_config({**raw, "model": {**raw["model"], "hidden_size": 1}})
    found = blind(run(weak))
    assert {"underfitting", "no_signal"} <= {f["finding"] for f in found}, found
    under = next(f for f in found if f["finding"] == "underfitting")
    assert "a constant forecast's" in under["evidence"] and under["remedy"]["overrides"]
    fine = build_config(small_config_dict(sample_slice, tmp_path))
    found = blind(run(fine))
    assert "no_signal" in {f["finding"] for f in found}
    assert "underfitting" not in {f["finding"] for f in found}, found


def test_a_healthy_fit_gets_no_error(co2_healthy):
    attempt, _ = co2_healthy
    found = blind(attempt)
    assert not named(found, "error"), found
    assert not blocking(found) and not fit_broken(found)
    assert attempt.metrics["overall"]["model"]["rel_mae"] < 1  # it does beat naive
    assert {f["finding"] for f in found} <= set(VOCABULARY)


def test_remedies_read_the_config_for_values_only(co2_healthy, tmp_path):
    """The same recorded run with another config: same findings and evidence, other values."""
    attempt, _ = co2_healthy
    steep = co2_config(tmp_path, "training.optimizer=rmsprop", "training.learning_rate=1.0",
                       "training.gradient_clip=0").model_dump(mode="json")
    history = [dict(h) for h in attempt.history]
    for h in history:  # as if the loss had blown up and stayed up
        h["train_loss"] = 50 * h["train_loss_zero"]
    found = diagnose(history, attempt.metrics, attempt.stats, steep)
    plain = co2_config(tmp_path).model_dump(mode="json")  # the same budget kind: step checks
    default = diagnose(history, attempt.metrics, attempt.stats, plain)
    assert [f["evidence"] for f in found] == [f["evidence"] for f in default]
    div = next(f for f in found if f["finding"] == "divergence")
    assert div["severity"] == "error" and "50x what a constant forecast scores" in div["evidence"]
    assert div["remedy"]["overrides"] == ["training.learning_rate=0.1",
                                          "training.gradient_clip=1", "training.optimizer=adamw"]


def _history(**curves) -> list[dict]:
    """A recorded history from per-epoch lists (what HistoryRecorder writes, trimmed)."""
    n = len(next(iter(curves.values())))
    return [{"epoch": i, **{k: v[i] for k, v in curves.items()}} for i in range(n)]


def test_evidence_names_checks_and_steps_as_the_training_log_does():
    """Under a step budget (the default) a history row is a validation check: evidence says
    'check 3 (step 384)', as the log line 'check 3 (step 384/3072)' does, not 'epoch 3'; under
    the deprecated training.max_epochs it stays 'epoch 3' (the deprecated key's own check)."""
    h = _history(train_loss=[0.5, 0.3, 0.2, 0.1], val_loss=[0.5, 0.4, 0.6, 0.8],
                 step=[128, 256, 384, 512])
    steps = {"training": {"max_steps": 3072, "val_check_steps": 128}}
    over = next(f for f in diagnose(h, config=steps) if f["finding"] == "overfitting")
    assert "val loss fell to 0.4 at check 2 (step 256) then rose 100% by check 4 (step 512)" \
        in over["evidence"], over["evidence"]
    epochs = {"training": {"max_epochs": 4}}  # deprecated: the epoch budget's wording
    over = next(f for f in diagnose(h, config=epochs) if f["finding"] == "overfitting")
    assert "val loss fell to 0.4 at epoch 2 then rose 100% by epoch 4" in over["evidence"]


def test_overfitting_on_few_windows_gets_the_small_data_remedy():
    """The remedy follows the training windows the data statistics recorded, not the config:
    the same curves and config with 300 windows make the network smaller than halving would
    (one layer, indicators dropped), with 100000 windows the plain regularising remedy."""
    h = _history(train_loss=[0.5, 0.3, 0.2, 0.1], val_loss=[0.5, 0.4, 0.6, 0.8],
                 step=[128, 256, 384, 512])
    cfg = {"model": {"hidden_size": 64, "num_layers": 2}, "training": {"max_steps": 512},
           "features": {"volatility_windows": [20], "zscore_windows": []}}

    def remedy(rows: int) -> dict:
        stats = {"input_size": 52, "horizon": 4, "per_series": {
            "a": {"train": {"n": rows}}, "b": {"train": {"n": rows}}}}
        return next(f for f in diagnose(h, stats=stats, config=cfg) if f["finding"] == "overfitting")

    few = remedy(205)  # 2 x (205 - 52 - 4 + 1) = 300 windows
    assert few["evidence"].endswith("on 300 training windows"), few["evidence"]
    assert few["remedy"]["overrides"] == [
        "model.hidden_size=16", "training.weight_decay=0.01", "model.num_layers=1",
        "features.volatility_windows=[]"]
    assert "Few training windows (300)" in few["remedy"]["advice"]
    # a validation loss 15% off its best while the train loss eased 10%: half the width, not a
    # quarter (the size of the change follows the size of the problem)
    h = _history(train_loss=[0.5, 0.3, 0.28, 0.27], val_loss=[0.5, 0.4, 0.44, 0.46],
                 step=[128, 256, 384, 512])
    assert remedy(205)["remedy"]["overrides"][0] == "model.hidden_size=32"
    many = remedy(50_055)
    assert "on 100000 training windows" in many["evidence"]
    assert many["remedy"]["overrides"] == [
        "model.dropout=0.3", "training.weight_decay=0.001", "model.hidden_size=32"]
    # no statistics recorded (an old run's record): the plain remedy, no window count
    plain = next(f for f in diagnose(h, config=cfg) if f["finding"] == "overfitting")
    assert "training windows" not in plain["evidence"]
    assert plain["remedy"]["overrides"] == many["remedy"]["overrides"]


def test_non_finite_losses_and_weights_are_divergence_errors():
    h = _history(train_loss=[0.5, 0.4, None], val_loss=[0.5, 0.45, None],
                 nonfinite_losses=[0, 0, 7], nonfinite_weights=[0, 0, 12])
    div = diagnose(h)[0]
    assert div["finding"] == "divergence" and div["severity"] == "error"
    assert "7 training batches had a non-finite loss (first in epoch 3)" in div["evidence"]
    assert "the weights held 12 non-finite values after epoch 3" in div["evidence"]
    assert diagnose([])[0]["finding"] == "divergence"  # not even one epoch ended


def test_a_loss_that_blew_up_and_came_back_is_a_warning_not_a_broken_fit():
    """A spike in epoch 1 that the fit recovers from leaves sound weights (the best val loss
    is kept): divergence says so as a warning with the lower learning rate, and the fit stays
    usable; a loss still blown up at the end is an error, the fit broken."""
    zero = {"train_loss_zero": [1.0] * 3, "val_loss_zero": [0.2] * 3}
    back = _history(train_loss=[30.0, 2.0, 0.9], val_loss=[6.0, 0.3, 0.19], **zero)
    div = diagnose(back)[0]
    assert (div["finding"], div["severity"]) == ("divergence", "warning")
    assert "the train loss reached 30 at epoch 1, 30x" in div["evidence"]
    assert "then came back: train loss 0.9 at epoch 3 (0.90x), val loss 0.19 at epoch 3 " \
        "(0.95x), best val loss 0.19" in div["evidence"]
    assert div["remedy"]["overrides"] and not fit_broken(diagnose(back))
    stuck = _history(train_loss=[30.0, 2.0, 12.0], val_loss=[6.0, 0.3, 0.19], **zero)
    assert diagnose(stuck)[0]["severity"] == "error" and fit_broken(diagnose(stuck))


def test_data_blowup_is_told_apart_from_a_bad_learning_rate():
    h = _history(train_loss=[0.5, 0.4], val_loss=[0.5, None], nonfinite_losses=[0, 3])
    stats = {"per_series": {"a": {"val": {"n": 50, "median": 0.0, "spread": 1.0,
                                          "max_abs": 3e28}}}}
    div = diagnose(h, stats=stats)[0]
    assert "reaches 3.000e+28 in the val part of series a" in div["evidence"]
    assert "data-quality gates" in div["remedy"]["advice"]
    gates_off = {"quality": {"enabled": False}, "model": {"loss": "mse"}}
    div = diagnose(h, stats=stats, config=gates_off)[0]
    assert div["remedy"]["overrides"] == ["quality.enabled=true", "model.loss=huber"]


def test_vanishing_gradients_need_both_ratio_and_size():
    def run(first, head):
        h = _history(train_loss=[0.5, 0.45], val_loss=[0.5, 0.46],
                     **{"grad_norm_mean:lstm.l0": [1e-3, first],
                        "grad_norm_mean:lstm.l1": [1e-2, 1e-2], "grad_norm_mean:head": [0.1, head],
                        "grad_norm_max:lstm.l0": [1e-3, first], "grad_norm_max:head": [0.1, head]})
        return {f["finding"] for f in diagnose(h)}

    assert "vanishing_gradients" in run(1e-7, 0.3)
    assert "vanishing_gradients" not in run(1e-7, 1e-5)  # everything small: converged, not VG
    assert "vanishing_gradients" not in run(1e-3, 100.0)  # ratio small, size not


def test_vanishing_gradients_in_the_second_half_are_named_though_the_last_check_recovered():
    """Saturated gates after a large step (vic_elec, 6 layers at lr 0.5): the first layer's
    gradient fell to 4e-6 at check 3 and crept back to 1e-4 by check 4; the first half's
    checks do not count (a blow-up's start is not the fit's state)."""
    h = _history(train_loss=[1.33, 0.53, 0.49, 0.447], val_loss=[0.61, 0.52, 0.47, 0.48],
                 step=[3, 6, 9, 12],
                 **{"grad_norm_mean:lstm.l0": [0.2, 0.03, 4.09e-6, 1.04e-4],
                    "grad_norm_mean:head": [0.15, 0.05, 0.0304, 0.01]})
    steps = {"training": {"max_steps": 12, "val_check_steps": 3}}
    van = next(f for f in diagnose(h, config=steps) if f["finding"] == "vanishing_gradients")
    assert van["evidence"].startswith("in check 3 (step 9) the mean gradient norm of the first "
                                      "LSTM layer (lstm.l0) was 4.090e-06, 7.4e+03x smaller"), \
        van["evidence"]
    early = _history(train_loss=[1.0, 0.5, 0.4, 0.35], val_loss=[1.0, 0.5, 0.4, 0.35],
                     **{"grad_norm_mean:lstm.l0": [4e-6, 0.03, 0.02, 0.01],
                        "grad_norm_mean:head": [0.1, 0.05, 0.03, 0.02]})
    assert "vanishing_gradients" not in {f["finding"] for f in diagnose(early)}


def test_memorising_is_overfitting_though_the_val_loss_barely_rises():
    """Weekly gasoline, 128 units: the train loss fell 400x after the best check, the val loss
    rose 4.7% (under Prechelt's 5%); a fit whose train loss only eased is not flagged."""
    h = _history(train_loss=[0.28, 0.068, 0.022, 0.0064, 0.0007],
                 val_loss=[0.375, 0.3905, 0.389, 0.3883, 0.3927])
    over = next(f for f in diagnose(h) if f["finding"] == "overfitting")
    assert "rose 4.7% by epoch 5 while train loss kept falling from 0.28 to 0.0007" \
        in over["evidence"], over["evidence"]
    eased = _history(train_loss=[0.3, 0.28, 0.27, 0.26, 0.25],
                     val_loss=[0.375, 0.38, 0.379, 0.38, 0.39])
    assert "overfitting" not in {f["finding"] for f in diagnose(eased)}


def test_a_huge_gradient_is_exploding_though_the_layers_grew_together():
    """Weekly CO2, an unclipped 4-layer stack: the first layer's norm only 28x the head's, but
    the whole gradient 1.9e4 on scaled targets; a norm of 72 (6 layers at lr 0.5) is not."""
    def found(total):
        h = _history(train_loss=[8010.0, 25.9], val_loss=[16.7, 0.65],
                     grad_norm_max=[total, 14.1],
                     **{"grad_norm_max:lstm.l0": [1.7e4, 0.0067],
                        "grad_norm_max:head": [613.0, 14.1]})
        return next((f for f in diagnose(h) if f["finding"] == "exploding_gradients"), None)

    boom = found(1.89e4)
    assert boom["evidence"].startswith("the gradient norm reached 1.89e+04 at epoch 1 before "
                                       "clipping"), boom["evidence"]
    assert found(71.5) is None


def test_windows_learnt_by_heart_are_overfitting_though_the_val_loss_never_rose():
    """400 weekly gasoline points, 128 units: the train loss fell to 0.02% of a constant
    forecast's while the val loss, slowly falling, stayed above the constant's."""
    zero = {"train_loss_zero": [0.424] * 5, "val_loss_zero": [0.803] * 5}
    h = _history(train_loss=[0.216, 0.0135, 0.0019, 0.0003, 0.0001],
                 val_loss=[1.10, 0.966, 0.952, 0.942, 0.934], **zero)
    over = next(f for f in diagnose(h) if f["finding"] == "overfitting")
    assert over["evidence"] == (
        "the train loss fell to 0.0001, 0.024% of a constant forecast's (0.424), while the best "
        "val loss 0.934 stayed above a constant forecast's (0.803): the training windows were "
        "learnt by heart"), over["evidence"]
    learnt = _history(train_loss=[0.3, 0.2, 0.15, 0.1, 0.09], val_loss=[0.9, 0.85, 0.82, 0.8, 0.79],
                      **zero)  # train 21% of the constant: still learning, not by heart
    assert "overfitting" not in {f["finding"] for f in diagnose(learnt)}


def test_healthy_history_gets_one_healthy_finding():
    h = _history(train_loss=[0.5, 0.4, 0.35, 0.34, 0.34], val_loss=[0.5, 0.42, 0.4, 0.41, 0.41],
                 weight_change=[0.1, 0.05, 0.02, 0.01, 0.01])
    (only,) = diagnose(h)
    assert only["finding"] == "healthy" and only["severity"] == "info"
    assert "val loss fell from 0.5 to 0.4, best at epoch 3 of 5 epochs" in only["evidence"]


def test_findings_outside_the_vocabulary_are_refused():
    with pytest.raises(ValueError, match="unknown finding"):
        Finding("bad_luck", "error", "x", "y")
    with pytest.raises(ValueError, match="unknown severity"):
        Finding("plateau", "fatal", "x", "y")


# corners of the config space remedies must respect
CORNERS = [
    ["training.learning_rate=1.0", "training.gradient_clip=0", "model.num_layers=8",
     "model.hidden_size=4096", "model.dropout=0.9", "training.weight_decay=1.0",
     "training.max_steps=10000000", "training.min_steps=10000000",
     "training.val_check_steps=1000000", "training.batch_size=65536", "forecast.input_size=5000",
     "preprocess.target_transform=level", "training.optimizer=rmsprop"],
    ["training.learning_rate=0.000001", "model.num_layers=1", "model.hidden_size=1",
     "model.dropout=0", "training.weight_decay=0", "training.max_steps=1",
     "training.min_steps=0", "training.val_check_steps=1",
     "training.batch_size=1", "training.l1_penalty=1.0", "model.loss=mse",
     "quality.enabled=false", "training.max_time_minutes=0.01"],
]
# the deprecated epoch budget's corners: its remedies (more epochs) must validate too
EPOCH_CORNERS = [["training.max_epochs=10000"], ["training.max_epochs=1"]]


def _configs(tmp_path: Path, corners: list[list[str]] = CORNERS) -> list[dict | None]:
    """The co2 and stock configs (with the step corners), and `corners` of the config space
    remedies must respect, set on the co2 config."""
    base = co2_config(tmp_path).model_dump(mode="json")
    stock = load_config(ROOT / "configs" / "default.yaml").model_dump(mode="json")
    plain = [None, base, stock] if corners is CORNERS else []
    return [*plain, *(apply_overrides(build_config(base).model_dump(mode="json"), c)
                      for c in corners)]


@pytest.mark.parametrize("corners", [CORNERS, EPOCH_CORNERS], ids=["steps", "deprecated_epochs"])
def test_every_remedy_validates_against_the_config(corners, tmp_path):
    """A later step applies remedies automatically: every override any finding can emit, for
    any config, must be accepted by --set and validate (the step budget's corners, and those of
    the deprecated training.max_epochs)."""
    from lstmflow.config.pipeline import parse_override

    for cfg, name in itertools.product(_configs(tmp_path, corners), REMEDIES):
        for cause in (None, *CAUSES.get(name, ())):
            advice, overrides = REMEDIES[name](cfg, cause)
            assert advice and isinstance(overrides, list)
            base = build_config(cfg or {"data": co2_config(tmp_path).data.model_dump()})
            fixed = build_config(apply_overrides(base.model_dump(mode="json"), overrides))
            for o in overrides:  # each one sets the value it names, and changes something
                (section, field), value = parse_override(o)
                assert getattr(getattr(fixed, section), field) == value, o
                assert getattr(getattr(base, section), field) != value, o


def test_losses_of_zero_are_not_read_as_a_blow_up():
    """A constant series fits perfectly: every ratio has a zero below it. Nothing is flagged
    and no division warns."""
    import warnings

    zero = {"train_loss": 0.0, "val_loss": 0.0, "train_loss_zero": 0.0, "val_loss_zero": 0.0,
            "weight_change": 0.0}
    h = [{"epoch": i, **zero} for i in range(6)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [f["finding"] for f in diagnose(h)] == ["healthy"]


def _walk_run(rel_naive: float, rel_snaive: float):
    """A recorded run on two random-walk series (past changes predict nothing) whose model
    scored `rel_naive` x naive's and `rel_snaive` x seasonal naive's MAE."""
    from lstmflow.fit.diagnosis.record import Run

    per = {s: {"model": {"mae": rel_naive, "rel_mae": rel_naive}, "naive": {"mae": 1.0},
               "seasonal_naive": {"mae": rel_naive / rel_snaive}} for s in ("a", "b")}
    metrics = {"overall": {"model": {"mae": rel_naive, "rel_mae": rel_naive,
                                     "rel_mae_vs_seasonal_naive": rel_snaive},
                           "naive": {"mae": 1.0}, "seasonal_naive": {"mae": rel_naive / rel_snaive}},
               "per_series": per}
    stats = {"per_series": {s: {"predictability": -0.02} for s in ("a", "b")}}
    return Run(history=[], metrics=metrics, stats=stats)


def test_a_model_far_worse_than_naive_is_an_error_whatever_the_data_explains():
    """80x naive's MAE on a random walk is no random walk's fault: an error that blocks
    promotion and triggers repair; a few percent above naive there stays the expected
    warning."""
    from lstmflow.fit.diagnosis.outcome import worse_than_baseline
    from lstmflow.repair.plan import triggers
    from lstmflow.serve.promote import decide

    far = worse_than_baseline(_walk_run(80.0, 40.0)).as_dict()
    assert far["severity"] == "error" and "expected on a random walk" not in far["evidence"]
    assert "more than seed noise explains" in far["evidence"]
    assert blocking([far]) == ["worse_than_baseline"]
    decision = decide("if_better", {"overall": {"model": {"mae": 80.0}}}, None, 0.1,
                      {"ingested": True, "model-inputs": True}, blocking([far]))
    assert not decision.promoted and "worse_than_baseline" in decision.reason
    walk = {"finding": "no_signal", "severity": "info"}
    assert triggers(far, [far, walk])
    near = worse_than_baseline(_walk_run(1.04, 0.6)).as_dict()
    assert near["severity"] == "warning" and "expected on a random walk" in near["evidence"]
    assert not triggers(near, [near, walk])
    above_snaive = worse_than_baseline(_walk_run(0.9, 1.6)).as_dict()  # 1.6x seasonal naive
    assert above_snaive["severity"] == "error"
    level = worse_than_baseline(_walk_run(1.01, 0.7)).as_dict()  # at naive's level: the best
    assert level["severity"] == "info" and "the best achievable" in level["evidence"]


def test_overfitting_is_info_only_at_naive_level_on_a_random_walk():
    """The same overfitting curves on random walks: at naive's level (1.01x) there was nothing
    but noise to learn and early stopping kept the best check (info); at 1.09x naive's the
    overfit cost accuracy (warning); on a series with signal it is a warning at any level."""
    from lstmflow.fit.diagnosis.outcome import expected_on_walks
    from lstmflow.fit.diagnosis.record import Run

    h = _history(train_loss=[0.5, 0.41, 0.38, 0.36], val_loss=[0.5, 0.42, 0.43, 0.445],
                 weight_change=[0.3, 0.1, 0.1, 0.1])

    def over(run: Run) -> dict:
        run.history = h
        found = diagnose(h, run.metrics, run.stats)
        return next(f for f in found if f["finding"] == "overfitting")

    at_level = over(_walk_run(1.01, 0.7))
    assert at_level["severity"] == "info" and "expected on a random walk" in at_level["evidence"]
    found = diagnose(h, *_parts(_walk_run(1.01, 0.7)))
    assert [f["finding"] for f in found if f["severity"] != "info"] == [], found
    assert over(_walk_run(1.09, 0.8))["severity"] == "warning"
    signal = _walk_run(1.01, 0.7)
    signal.stats = {"per_series": {s: {"predictability": 0.3} for s in ("a", "b")}}
    assert over(signal)["severity"] == "warning"
    assert expected_on_walks([], _walk_run(1.01, 0.7)) == []


def _parts(run) -> tuple:
    return run.metrics, run.stats


def test_a_network_no_better_than_its_linear_highway_is_said_as_info():
    """linear_enough reads the recorded validation contrast (stats['highway']), never the
    config: 1% better than the highway alone is said, 10% better is not, no contrast is not."""
    h = _history(train_loss=[0.5, 0.4, 0.35, 0.34, 0.34], val_loss=[0.5, 0.42, 0.4, 0.41, 0.41],
                 weight_change=[0.1, 0.05, 0.02, 0.01, 0.01])
    same = {"highway": {"model_mae": 0.99, "highway_mae": 1.0, "points": 80}}
    found = {f["finding"]: f for f in diagnose(h, stats=same)}
    assert found["linear_enough"]["severity"] == "info" and "healthy" in found
    assert "linear highway alone scores MAE 1 and the whole network 0.99" in \
        found["linear_enough"]["evidence"]
    better = {"highway": {"model_mae": 0.9, "highway_mae": 1.0, "points": 80}}
    assert "linear_enough" not in {f["finding"] for f in diagnose(h, stats=better)}
    assert "linear_enough" not in {f["finding"] for f in diagnose(h)}


def test_the_highway_contrast_is_measured_on_validation_forecasts(tmp_path):
    """A real fit with a highway: both MAEs come from validation forecasts on the same points
    (the highway alone forecasts differently from the whole network), and the model is whole
    again afterwards."""
    from lstmflow.core import Forecaster
    from tests.conftest import HEALTHY, co2_config, prepared

    cfg = co2_config(tmp_path, *HEALTHY, "model.highway=8")
    forecaster = Forecaster(cfg)
    fit = forecaster.fit(prepared(cfg))
    before = forecaster.evaluate(fit).metrics["overall"]["model"]["mae"]
    contrast = forecaster.diagnose(fit).stats["highway"]
    assert contrast["points"] > 0 and contrast["model_mae"] != contrast["highway_mae"]
    assert forecaster.evaluate(fit).metrics["overall"]["model"]["mae"] == before
