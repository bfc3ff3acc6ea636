"""The core (lstmflow.core.Forecaster): one code path for every caller, fitted state returned and
never written into an argument, and one random stream per fit."""

from __future__ import annotations

import copy
import json
import threading

import numpy as np
import pandas as pd
import pytest
import torch

from lstmflow.core import Fitted, Forecaster
from tests.conftest import single_fit_config


def tiny(csv, out, **sections):
    return single_fit_config(csv, out, **sections)


def untimed(history: list[dict]) -> list[dict]:
    """A recorded curve without its wall times (the one thing two identical fits differ in)."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def weights(model) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def test_a_backtest_fold_over_a_training_runs_rows_is_that_run(prefect_harness, sample_slice,
                                                               tmp_path):
    """The training flow (its tasks over the core) and a backtest fold (run_fold over the core)
    on the same rows: the same recorded curve, the same fitted state, the same test metrics and
    findings, to the last bit."""
    from flows.training import train_flow
    from lstmflow.backtest.fold import run_fold
    from lstmflow.backtest.plan import fold_frame, plan_folds
    from lstmflow.serve.registry import load_version

    cfg = tiny(sample_slice, tmp_path / "out", registry={"promote": "always"})
    summary = train_flow(cfg, run_id="run")
    assert summary["status"] == "completed", summary.get("reason")
    run_dir = tmp_path / "out" / "runs" / "run"
    snapshot = pd.read_parquet(run_dir / "data.parquet")  # the rows that passed both gates
    one = cfg.model_copy(update={"backtest": cfg.backtest.model_copy(update={"folds": 1})})
    (fold,) = plan_folds(snapshot, one)
    rows = fold_frame(snapshot, fold)
    assert len(rows) == len(snapshot)  # the last fold is every row
    result = run_fold(rows, cfg, 0)
    record = result.record.to_json()  # the fold's entry in backtest.json
    assert record["status"] == "completed", record.get("reason")
    assert untimed(result.history) == untimed(json.loads((run_dir / "history.json").read_text()))
    assert record["metrics"] == summary["metrics"]
    assert record["diagnosis"] == summary["diagnosis"]
    assert record["training"]["best_val_loss"] == summary["training"]["best_val_loss"]
    version = load_version(tmp_path / "out" / "registry" / "test" / "versions" / "run")
    refit = Forecaster(cfg).fit(rows)
    assert refit.state == version.state  # scalers, imputer, features and the blend
    for name, w in weights(refit.model).items():
        np.testing.assert_array_equal(w, version.model.state_dict()[name].numpy())


@pytest.fixture(scope="module")
def prepared_slice(sample_slice, tmp_path_factory):
    cfg = tiny(sample_slice, tmp_path_factory.mktemp("core"))
    from lstmflow.data.ingest import ingest

    frame = ingest(cfg.data).frame
    return cfg, frame, Forecaster(cfg).prepare(frame)


def test_a_fit_returns_its_state_and_changes_nothing_it_was_given(prepared_slice):
    """The blend lives in the fit's returned state; the prepared data (scalers, arrays) are
    as they were; evaluating twice gives the same metrics."""
    cfg, _, prepared = prepared_slice
    before = copy.deepcopy(prepared.state)
    arrays = [a.x.copy() for a in prepared.arrays]
    core = Forecaster(cfg)
    fit = core.fit(prepared)
    assert fit.ok and prepared.state == before and "blend" not in prepared.state
    assert all(np.array_equal(a.x, x, equal_nan=True)
               for a, x in zip(prepared.arrays, arrays, strict=True))
    added = {k: v for k, v in (("blend", fit.blend), ("intervals", fit.intervals)) if v}
    assert fit.intervals and fit.state == {**before, **added}
    first, again = core.evaluate(fit), core.evaluate(fit)
    assert first.metrics == again.metrics
    alone = core.evaluate(Fitted(cfg, fit.model, prepared.state), prepared)
    if fit.blend:  # the blend is what the state says, nothing else
        assert alone.metrics["overall"]["model"]["mae"] == \
            first.metrics["blend"]["mae_model_alone"]


def test_fits_in_threads_draw_nothing_from_each_other(prepared_slice):
    """Two fits (different seeds) at once in threads of one process, while a third thread
    reseeds and draws from torch's process-wide generator: bit-identical to each fit alone.
    Each fit draws its weights from its own torch.Generator and its batches from its own
    samplers (without dropout nothing reads the process-wide stream)."""
    cfg, _, prepared = prepared_slice
    cfgs = [cfg.model_copy(update={"training": cfg.training.model_copy(update={"seed": s})})
            for s in (1, 2)]
    alone = [Forecaster(c).fit(prepared) for c in cfgs]
    stop = threading.Event()

    def noise() -> None:
        while not stop.is_set():
            torch.manual_seed(int(torch.randint(0, 1000, (1,))))
            torch.rand(64)

    together: list = [None, None]

    def fit(k: int) -> None:
        together[k] = Forecaster(cfgs[k]).fit(prepared)

    threads = [threading.Thread(target=noise), *(threading.Thread(target=fit, args=(k,))
                                                  for k in range(2))]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    for a, b in zip(alone, together, strict=True):
        assert untimed(a.history) == untimed(b.history)
        for name, w in weights(a.model).items():
            np.testing.assert_array_equal(w, weights(b.model)[name])
    assert untimed(alone[0].history) != untimed(alone[1].history)  # the seeds do draw different fits


def test_initial_weights_follow_the_seed_not_the_global_stream(prepared_slice):
    from lstmflow.fit.model import build_model

    cfg, _, prepared = prepared_slice
    torch.manual_seed(0)
    a = weights(build_model(cfg, len(prepared.inputs)))
    torch.manual_seed(123)
    torch.rand(1000)
    b = weights(build_model(cfg, len(prepared.inputs)))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    other = cfg.model_copy(update={"training": cfg.training.model_copy(update={"seed": 7})})
    c = weights(build_model(other, len(prepared.inputs)))
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_a_fit_with_no_finite_validation_loss_comes_back_with_its_curve_and_no_model(
        prepared_slice):
    """A corrupt value in every series' validation rows: no check is finite, so the fit
    returns its recorded curve and no model (no exception), and the diagnosis names why."""
    cfg, frame, _ = prepared_slice
    cfg = cfg.model_copy(update={  # squared errors: a corrupt level overflows the loss
        "model": cfg.model.model_copy(update={"loss": "mse"}),
        "preprocess": cfg.preprocess.model_copy(update={"target_transform": "level"})})
    core = Forecaster(cfg)
    bounds = core.split(frame)
    bad = frame.copy()
    for sid, b in bounds.items():
        rows = bad.index[bad["series_id"].astype(str) == sid]
        bad.loc[rows[b.train_end + 5], "target"] = 1e30
    fit = core.fit(bad, bounds)
    assert not fit.ok and fit.model is None and "no finite validation loss" in fit.error
    assert len(fit.history) >= 1
    assert core.diagnose(fit).findings[0]["finding"] == "divergence"
    with pytest.raises(ValueError, match="left no model"):
        _ = fit.fitted
