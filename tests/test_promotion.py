"""Promotion policy: the rules one by one (plain `decide`), then whole registrations against a
real champion re-scored on the same test points (real data, real fitted state, a real network).

The challenger's test metrics are the champion's own re-scored ones times a factor, so "worse",
"better" and "better by less than the margin" are exact rather than hoped for from a fit.
"""

from __future__ import annotations

import pytest

from lstmflow.config import build_config
from lstmflow.serve.history import read_history
from lstmflow.serve.promote import decide, score_champion
from lstmflow.serve.register import register
from lstmflow.serve.registry import champion, load_version
from tests.conftest import GATES_PASSED as GATES
from tests.conftest import register_version, small_config_dict


def _metrics(model, naive, snaive, series=("a",)):
    """Series whose MAEs are given; overall equal to them."""
    one = {"model": {"mae": model}, "naive": {"mae": naive}, "seasonal_naive": {"mae": snaive}}
    return {"overall": one, "per_series": dict.fromkeys(series, one)}


def _champ(mae, version="v1"):
    return {"version": version, "metrics": {"per_series": {"a": {"model": {"mae": mae}}}}}


def test_the_rules_in_order():
    good = _metrics(1.0, 2.0, 3.0)
    d = decide("if_better", _metrics(1.0, 0.9, 2.0), None, gates=GATES)
    assert (d.promoted, d.status) == (False, "rejected")
    assert "does not beat the baselines: MAE ratio vs naive 1.111" in d.reason
    assert decide("if_better", good, None, gates=GATES).reason.endswith("no champion yet")
    d = decide("if_better", good, None, gates={"ingested": True, "model-inputs": None})
    assert not d.promoted and "gate(s) model-inputs did not run or pass" in d.reason
    d = decide("if_better", good, None, gates=GATES, blocked=["underfitting", "plateau"])
    assert not d.promoted and d.reason == "the diagnosis found errors (underfitting, plateau)"
    assert decide("always", _metrics(9, 2, 3), None).promoted
    assert not decide("always", good, None, blocked=["divergence"]).promoted
    d = decide("never", good, None, gates=GATES)
    assert (d.promoted, d.status) == (False, "candidate")


@pytest.mark.parametrize(("champion_mae", "promoted", "says"), [
    (0.5, False, "does not beat champion v1 (MAE ratio new/champion 2.0000, needed <= 0.9800)"),
    (1.005, False, "better than champion v1 by only 0.50%, less than registry.min_improvement "
     "2.00% (MAE ratio new/champion 0.9950, needed <= 0.9800)"),
    (1.25, True, "and champion v1 by 20.00% (MAE ratio new/champion 0.8000, needed <= 0.9800)"),
])
def test_the_champion_margin(champion_mae, promoted, says):
    d = decide("if_better", _metrics(1.0, 2.0, 3.0), _champ(champion_mae), 0.02, GATES)
    assert d.promoted is promoted and says in d.reason, d.reason


def test_a_champion_that_cannot_be_compared_leaves_the_baselines_to_decide():
    d = decide("if_better", _metrics(1.0, 2.0, 3.0), {"version": "v1", "error": "IntegrityError: "
               "file 'state.json' ..."}, 0.02, GATES)
    assert d.promoted and "champion v1 not comparable (IntegrityError: file 'state.json'" in d.reason


# ---- whole registrations against a real champion -----------------------------------------------

@pytest.fixture(scope="module")
def bench(sample_slice, tmp_path_factory):
    """A champion (an untrained network on the real fitted state: its forecasts are what they
    are) registered with policy 'always', and what a challenger needs to register."""
    out = tmp_path_factory.mktemp("promotion")
    cfg = build_config(small_config_dict(sample_slice, out, registry={"promote": "always"}))
    b = register_version(cfg, "champ")
    assert b["result"].promoted
    b["champion"] = score_champion(b["root"], b["frame"], b["bounds"], cfg)["metrics"]
    b["cfg"] = build_config(small_config_dict(sample_slice, out))  # if_better from here on
    return b


def _challenger(bench, run_id: str, factor: float, **meta):
    """Register a challenger whose MAE on every series is the champion's times `factor`."""
    per = {s: {"model": {"mae": v["model"]["mae"] * factor}, "naive": {"mae": 1e9},
               "seasonal_naive": {"mae": 1e9}} for s, v in bench["champion"]["per_series"].items()}
    metrics = {"overall": {"model": {"mae": 1.0}}, "per_series": per}
    return register(bench["root"], _fitted(bench), metrics,
                    {**bench["meta"], "run_id": run_id, **meta}, bench["frame"], bench["bounds"])


def _fitted(bench):
    """The registered network and fitted state, under the challenger's config."""
    from lstmflow.core import Fitted

    return Fitted(bench["cfg"], bench["model"], bench["prepared"].state)


def _status(bench, run_id: str) -> dict:
    return load_version(bench["root"] / "versions" / run_id).manifest["decision"]


def test_a_worse_challenger_is_rejected_and_the_champion_stays(bench):
    before = (bench["root"] / "champion.json").read_bytes()
    out = _challenger(bench, "worse", 1.10)
    assert out.promoted is False and out.status == "rejected"
    assert "does not beat champion champ (MAE ratio new/champion 1.1000" in out.reason
    assert (bench["root"] / "champion.json").read_bytes() == before
    assert _status(bench, "worse")["status"] == "rejected"  # kept, with its reason
    assert read_history(bench["root"])[-1]["status"] == "rejected"


def test_a_challenger_better_by_less_than_the_margin_is_rejected_with_that_reason(bench):
    out = _challenger(bench, "slightly", 0.95)  # within the seed noise (bench/seed_spread.py)
    assert out.promoted is False
    assert "better than champion champ by only 5.00%, less than registry.min_improvement " \
           "10.00%" in out.reason
    assert champion(bench["root"])["version"] == "champ"


def test_error_findings_and_gates_that_did_not_run_block_a_better_challenger(bench):
    out = register(bench["root"], _fitted(bench),
                   {"overall": {"model": {"mae": 1.0}}, "per_series": {}},
                   {**bench["meta"], "run_id": "blocked"}, bench["frame"], bench["bounds"],
                   blocked=["underfitting"])
    assert out.promoted is False and "diagnosis found errors (underfitting)" in out.reason
    out = _challenger(bench, "nogates", 0.5, gates={"ingested": None, "model-inputs": None})
    assert out.promoted is False and "gate(s) ingested, model-inputs did not run" in out.reason
    assert champion(bench["root"])["version"] == "champ"


def test_a_better_challenger_is_promoted(bench):
    out = _challenger(bench, "better", 0.85)
    assert out.promoted is True and out.status == "champion"
    assert "champion champ by 15.00%" in out.reason
    pointer = champion(bench["root"])
    assert pointer["version"] == "better" and pointer["previous"][-1] == "champ"
    assert read_history(bench["root"])[-1]["from"] == "champ"
