"""Conformal intervals (forecast.intervals): calibrated on validation only, applied wherever a
forecast becomes levels, scored on test, and named when they miss (miscalibrated)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmflow.core import Forecaster
from lstmflow.fit.intervals import band_name, bands, conformal_quantile, interval_score
from tests.conftest import single_fit_config


def tiny(csv, out, **sections):
    return single_fit_config(csv, out, **sections)


@pytest.fixture(scope="module")
def frame_and_cfg(sample_slice, tmp_path_factory):
    from lstmflow.data.ingest import ingest

    cfg = tiny(sample_slice, tmp_path_factory.mktemp("iv"))
    return ingest(cfg.data).frame, cfg


def test_the_conformal_quantile_has_the_finite_sample_correction():
    scores = np.arange(1.0, 10.0)  # 9 scores
    assert conformal_quantile(scores, 0.8) == 8.0  # ceil(10 x 0.8) = 8th smallest
    assert conformal_quantile(scores, 0.5) == 5.0
    assert conformal_quantile(scores, 0.95) == np.inf  # ceil(9.5) = 10 > 9 scores
    assert band_name(0.8) == "80" and band_name(0.975) == "97.5"


def test_exchangeable_errors_are_covered_at_the_nominal_rate():
    """Split conformal on iid errors: the band from 2000 validation scores holds ~80% and ~95%
    of 20000 new points (the guarantee the method rests on)."""
    rng = np.random.default_rng(0)
    val, test = rng.standard_t(3, 2000), rng.standard_t(3, 20000)
    for level in (0.8, 0.95):
        q = conformal_quantile(np.abs(val), level)
        assert abs(np.mean(np.abs(test) <= q) - level) < 0.02


def test_bands_never_cross_and_hold_the_point():
    point = np.array([[10.0, 10.0]])
    cqr = {"method": "cqr", "scale": {"s": 2.0}, "q": {"80": [-3.0, 0.5]}}  # a shrunk step
    (lo, hi), = bands(point, cqr, "s", np.array([[9.0, 8.0]]), np.array([[11.0, 12.0]])).values()
    assert (lo <= point).all() and (hi >= point).all()
    assert lo.tolist() == [[10.0, 7.0]] and hi.tolist() == [[10.0, 13.0]]
    split = {"method": "split_conformal", "scale": {"s": 2.0}, "q": {"95": [1.0, None]}}
    (lo, hi), = bands(point, split, "s").values()
    assert lo[0, 0] == 8.0 and hi[0, 0] == 12.0 and np.isnan(lo[0, 1])  # too few scores
    assert interval_score(np.array([5.0]), np.array([8.0]), np.array([12.0]), 0.8)[0] == \
        pytest.approx(4.0 + 10 * 3.0)  # width + 2 / 0.2 x the miss


def test_calibration_never_reads_the_test_part(frame_and_cfg):
    """Every test value changed (x3): the fitted interval quantiles and the band widths at
    every test origin are identical; only the actuals (and so the coverage) move."""
    frame, cfg = frame_and_cfg
    core = Forecaster(cfg)
    bounds = core.split(frame)
    edited = frame.copy()
    for sid, b in bounds.items():
        rows = edited.index[edited["series_id"].astype(str) == sid][b.val_end:]
        edited.loc[rows, "target"] *= 3.0
    fits = [core.fit(f, bounds) for f in (frame, edited)]
    assert fits[0].intervals and fits[0].intervals == fits[1].intervals
    widths = []
    for fit in fits:
        series = core.evaluate(fit).forecasts.series
        widths.append([hi - lo for f in series for lo, hi in f.bands.values()])
    for a, b in zip(*widths, strict=True):  # (point + w) - (point - w): rounding only
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("loss", ["huber", "quantile"])
def test_every_loss_forecasts_with_its_intervals(frame_and_cfg, loss):
    """Test forecasts and predict's table carry lower_80/upper_80/lower_95/upper_95 around the
    point (CQR on the network's own band under the quantile loss), and the evaluation scores
    each level."""
    frame, cfg = frame_and_cfg
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"loss": loss})})
    core = Forecaster(cfg)
    fit = core.fit(frame)
    assert fit.intervals["method"] == ("cqr" if loss == "quantile" else "split_conformal")
    table, _ = Forecaster.forecast(fit.fitted, frame)
    names = ["lower_80", "upper_80", "lower_95", "upper_95"]
    assert set(names) <= set(table.columns)
    assert ("lower" in table.columns) == (loss == "quantile")  # the network's own band
    for level in ("80", "95"):
        assert (table[f"lower_{level}"] <= table["forecast"]).all()
        assert (table["forecast"] <= table[f"upper_{level}"]).all()
    assert (table["upper_95"] - table["lower_95"] >= table["upper_80"] - table["lower_80"]).all()
    cal = core.evaluate(fit).metrics["calibration"]
    assert set(cal["levels"]) == {"80", "95"} and cal["calibrated_on"] == "validation"
    for v in cal["levels"].values():
        assert 0 <= v["coverage"] <= 1 and v["width"] > 0 and v["interval_score"] >= v["width"]
        assert len(v["per_horizon"]) == cfg.forecast.horizon and set(v["per_series"]) == {
            "AAPL", "MSFT"}


def test_no_levels_no_intervals(frame_and_cfg):
    frame, cfg = frame_and_cfg
    cfg = cfg.model_copy(update={"forecast": cfg.forecast.model_copy(update={"intervals": []})})
    fit = Forecaster(cfg).fit(frame)
    assert fit.intervals is None and "intervals" not in fit.state
    table, _ = Forecaster.forecast(fit.fitted, frame)
    assert not [c for c in table.columns if c.startswith("lower")]
    assert "calibration" not in Forecaster(cfg).evaluate(fit).metrics


def _calibration(coverage: float, points: int, steps: int = 5) -> dict:
    level = {"nominal": 0.8, "coverage": coverage, "points": points, "width": 1.0,
             "per_horizon": [{}] * steps}
    return {"overall": {}, "calibration": {"levels": {"80": level}}}


def test_a_coverage_outside_the_binomial_tolerance_is_miscalibrated():
    from lstmflow.fit.diagnosis.calibrated import miscalibrated
    from lstmflow.fit.diagnosis.record import Run

    # 500 points over 5 steps: 100 origins, neighbours within 5 steps forecast the same rows:
    # 20 independent paths, tolerance 1.96 x sqrt(0.16 / 20) = 17.5%
    assert miscalibrated(Run(history=[], metrics=_calibration(0.65, 500))) is None
    found = miscalibrated(Run(history=[], metrics=_calibration(0.60, 500)))
    assert found.severity == "warning"
    assert "the 80% interval held 60% of 500 test points (too narrow; nominal 80% +- 18% for " \
        "~20 independent forecast paths)" in found.evidence, found.evidence
    assert "evaluation.val_size=" in " ".join(found.overrides)
    wide = miscalibrated(Run(history=[], metrics=_calibration(0.95, 5000)))
    assert "too wide" in wide.evidence and wide.severity == "info"  # safe, only wider
    assert miscalibrated(Run(history=[], metrics={"overall": {}})) is None


def test_forecasts_parquet_names_a_column_pair_per_level(frame_and_cfg):
    from lstmflow.fit.evaluate import forecast_frame

    frame, cfg = frame_and_cfg
    core = Forecaster(cfg)
    table = forecast_frame(core.evaluate(core.fit(frame)).forecasts.series)
    assert {"lower_80", "upper_80", "lower_95", "upper_95"} <= set(table.columns)
    inside = table.dropna(subset=["lower_80"])
    assert (inside["lower_80"] <= inside["model"]).all()
    assert isinstance(table, pd.DataFrame)


def test_intervals_calibrated_on_a_backtest_of_the_same_config(prefect_harness, sample_slice,
                                                               tmp_path):
    """forecast.calibration: backtest: without a backtest the run says so and calibrates on
    validation; after `lstmflow backtest` of the same config (its folds keep their test errors)
    the run calibrates on every fold's out-of-sample scores."""
    from flows.backtest import backtest_flow
    from flows.training import train_flow
    from lstmflow.config import with_overrides

    cfg = with_overrides(tiny(sample_slice, tmp_path / "out"), [
        "forecast.calibration=backtest", "backtest.folds=2", "backtest.step=30",
        "registry.skip_unchanged=false", "runtime.workers=1"])
    alone = train_flow(cfg, run_id="alone")
    assert alone["metrics"]["calibration"]["calibrated_on"] == "validation"
    assert any("no completed backtest of this config" in w for w in alone["warnings"])
    backtest = backtest_flow(cfg, run_id="bt")
    assert backtest["status"] == "completed"
    folds = [pd.read_parquet(tmp_path / "out" / "runs" / "bt" / "folds" / str(k) /
                             "scores.parquet") for k in (0, 1)]
    assert all(set(f["step"]) == {1, 2, 3} and (f["score"] >= 0).all() for f in folds)
    calibrated = train_flow(cfg, run_id="calibrated")
    cal = calibrated["metrics"]["calibration"]
    n = sum(len(f) for f in folds)
    assert cal["calibrated_on"] == f"backtest bt (2 folds, {n} out-of-sample scores)"
    assert sum(cal["scores_per_step"]) == n
    other = with_overrides(cfg, ["model.hidden_size=8"])  # another model: not its backtest
    assert train_flow(other, run_id="other")["metrics"]["calibration"]["calibrated_on"] == \
        "validation"
