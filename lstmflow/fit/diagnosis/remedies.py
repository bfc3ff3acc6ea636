"""What to change for each finding: advice in plain words and `--set` overrides.

Remedies read the run's config only to compute new values (the learning rate divided by ten
needs the current rate); with no config they start from the defaults. Every override is
clamped to its field's bounds, so the list always validates: a later step applies it as is.
"""

from __future__ import annotations

from collections.abc import Callable

from lstmflow.fit.budget import BATCH_RANGE, DEFAULT_MAX_STEPS
from lstmflow.fit.diagnosis.changes import Changes
from lstmflow.fit.diagnosis.thresholds import NOISE_SIGNAL

Remedy = tuple[str, list[str]]


def _lower_lr(c: Changes) -> Changes:
    return c.scale("training.learning_rate", 0.1, 1e-6, 1.0)


def _clip(c: Changes) -> Changes:
    """Gradient clipping on, at a norm of at most 1."""
    if not 0 < c.get("training.gradient_clip") <= 1.0:
        c.set("training.gradient_clip", 1.0)
    return c


def _differenced(c: Changes) -> Changes:
    """Model changes instead of levels (a level target drifts out of the training scale)."""
    if c.get("preprocess.target_transform") == "level":
        c.set("preprocess.target_transform", "diff")
    return c


def _capacity(c: Changes) -> Changes:
    """Twice the units a layer, at least 32 (every finding that asks for capacity agrees)."""
    return c.set("model.hidden_size", min(4096, max(32, 2 * c.get("model.hidden_size"))))


def divergence(cfg: dict | None, cause: str | None = None) -> Remedy:
    if cause == "data":
        c = Changes(cfg).set("quality.enabled", True)
        if c.get("model.loss") == "mse":
            c.set("model.loss", "huber")
        return ("A value in the data is far outside anything the scaling expects: find and fix "
                "it; the data-quality gates refuse such values before training.", c.items)
    c = _clip(_lower_lr(Changes(cfg)))
    if c.get("training.optimizer") == "rmsprop":
        c.set("training.optimizer", "adamw")
    return ("Lower the learning rate tenfold and clip the gradient norm, so no single update can "
            "throw the weights far; RMSprop without bias correction takes the largest first "
            "steps, AdamW does not.", c.items)


def exploding_gradients(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = _lower_lr(_clip(Changes(cfg)))
    if c.get("model.num_layers") > 2:
        c.set("model.num_layers", 2)
    _differenced(c)
    return ("Clip the gradient norm and lower the learning rate; a shallower stack and a "
            "differenced target keep the gradients of the first layers in scale.", c.items)


def vanishing_gradients(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = Changes(cfg)
    if c.get("model.num_layers") > 2:
        c.set("model.num_layers", 2)
    if c.get("training.learning_rate") >= 0.01:  # a large rate saturates the gates
        _lower_lr(c)
    return ("The first layers barely learn: use fewer stacked layers, and a smaller learning "
            "rate if the gates were driven into saturation.", c.items)


# Indicator lists a small-data remedy empties (the target, its rolling means and the calendar
# stay): each adds an input the few training windows must learn to ignore.
INDICATORS = ("features.volatility_windows", "features.zscore_windows", "features.ema_spans",
              "features.rsi_windows", "features.macd_spans", "features.bollinger_windows")


def small_net(windows: int) -> int:
    """The widest power-of-two layer, at least 8 units, whose recurrent weights (4 h^2 a layer)
    are no more than the training windows: about one weight per example to learn from."""
    h = 8
    while 4 * (2 * h) ** 2 <= windows:
        h *= 2
    return h


def overfitting(cfg: dict | None, cause: str | None = None, windows: int | None = None) -> Remedy:
    c = Changes(cfg)
    hidden = c.get("model.hidden_size")
    if windows is not None and 4 * hidden**2 > windows:  # more recurrent weights than examples
        # the change follows the problem's size: windows learnt by heart or a train loss halved
        # past the best check ask for a network near small_net; a validation loss a few percent
        # off its best (the weights early stopping kept are good) for half the width (vic_elec,
        # 128 units: a quarter of them was still learning when the budget ended, 14% worse)
        shrink = 4 if cause in ("by_heart", "memorised") else 2
        c.set("model.hidden_size", min(hidden // 2, max(small_net(windows), hidden // shrink)))
        c.set("training.weight_decay", float(min(1.0, max(1e-2, c.get("training.weight_decay") * 10))))
        if c.get("model.num_layers") > 1:
            c.set("model.num_layers", 1)
        for key in INDICATORS:
            if c.get(key):
                c.set(key, "[]")
        return (f"Few training windows ({windows}) for a network of {c.get('model.num_layers')} x "
                f"{hidden} units: it memorises them. Make it small enough for the data (one "
                "layer, about one recurrent weight per window), decay the weights harder and "
                "drop the indicator inputs; early stopping already kept the best weights.", c.items)
    c.set("model.dropout", round(min(0.5, c.get("model.dropout") + 0.2), 2))
    c.set("training.weight_decay", float(min(1.0, max(1e-3, c.get("training.weight_decay") * 10))))
    if hidden > 16:
        c.set("model.hidden_size", hidden // 2)
    return ("The model memorises the training windows: regularise it (more dropout and weight "
            "decay) or make it smaller; early stopping already kept the best weights.", c.items)


def underfitting(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = _capacity(Changes(cfg))
    if c.get("training.l1_penalty") > 0:
        c.set("training.l1_penalty", 0.0)
    if c.get("model.dropout") > 0.2:
        c.set("model.dropout", 0.1)
    if c.get("training.max_epochs") is None:  # a step budget: at least twice the default
        c.set("training.max_steps", max(2 * DEFAULT_MAX_STEPS, c.get("training.max_steps") or 0))
    elif c.get("training.max_epochs") < 20:
        c.set("training.max_epochs", 50)
    return ("The model does not even fit its training data: give it more capacity, less "
            "regularisation and enough steps.", c.items)


PLATEAU_LR = 1e-3  # Adam's default rate (Kingma & Ba 2015): a stuck fit below it is raised to it


def plateau(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = Changes(cfg)
    c.set("training.learning_rate", float(min(1.0, max(PLATEAU_LR, 10 * c.get(
        "training.learning_rate")))))
    return ("The weights hardly move, so the loss cannot fall: raise the learning rate "
            f"tenfold, to at least {PLATEAU_LR:g} (Adam's default).", c.items)


def not_converged(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = Changes(cfg)
    if c.get("training.max_epochs") is not None:  # the deprecated epoch budget
        c.scale("training.max_epochs", 2, 1, 10000)
    else:
        steps = c.get("training.max_steps") or DEFAULT_MAX_STEPS
        c.set("training.max_steps", min(10_000_000, 2 * steps))
    c.scale("training.max_time_minutes", 2, 0.1, 1e5)
    return ("Give it more steps and time: early stopping still ends the fit once the "
            "validation loss stalls.", c.items)


def noisy_optimisation(cfg: dict | None, cause: str | None = None,
                       signal: float | None = None) -> Remedy:
    """A noisy gradient (signal share <= NOISE_SIGNAL): the batch up by the factor that brings
    the share to about twice that (B_noise / B falls as B grows), 2..16, the rate halved; a
    clean one: steps too long, the rate down to 0.3x and the batch doubled. Checks twice as
    long either way, when set."""
    c = Changes(cfg)
    batch = c.get("training.batch_size") or BATCH_RANGE[1] // 2  # auto batches: 16..256
    factor, rate = 2, 0.3
    if signal is None or signal <= NOISE_SIGNAL:
        target, rate = 2 * NOISE_SIGNAL, 0.5
        factor = 4 if signal is None else int(min(16, max(2, round(
            (1 / max(signal, 1e-3) - 1) / (1 / target - 1)))))
    c.set("training.batch_size", min(65536, factor * batch))
    c.scale("training.learning_rate", rate, 1e-6, 1.0)
    if c.get("training.val_check_steps") is not None:
        c.scale("training.val_check_steps", 2, 1, 1_000_000)
    return ("The validation loss jumps from check to check: a larger batch averages the "
            "gradient's noise, a smaller learning rate takes gentler steps and longer "
            "validation periods judge the fit on more of them.", c.items)


def distribution_shift(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = _differenced(Changes(cfg))
    return ("The later data does not look like the training data: retrain on recent data, and "
            "model changes rather than levels so the scale learned in training still "
            "applies.", c.items)


def worse_than_baseline(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = Changes(cfg)
    season = c.get("evaluation.season")
    if c.get("forecast.input_size") < 2 * season:
        c.set("forecast.input_size", 2 * season)
    _differenced(c)
    return ("Keep the baseline in service (promotion refuses this model); act on the other "
            "findings first, and give the model a window of at least two seasons.", c.items)


def miscalibrated(cfg: dict | None, cause: str | None = None) -> Remedy:
    c = Changes(cfg)
    c.scale("evaluation.val_size", 2, 1, 10**9)
    return ("The intervals were calibrated on validation errors that do not look like the test "
            "period's: a longer validation period gives more (and more varied) errors to "
            "calibrate on; check distribution_shift when the intervals are too narrow.", c.items)


def no_signal(cfg: dict | None, cause: str | None = None) -> Remedy:
    return ("Use the naive forecast: the changes of this series are not predictable from its "
            "past, so no setting will make a model beat it.", [])


def linear_enough(cfg: dict | None, cause: str | None = None) -> Remedy:
    return ("Nothing to fix: the linear highway alone forecasts the validation period as well "
            "as the whole network. A linear autoregression on the window (the highway, or a "
            "ridge on lags) is the cheaper model here; keep the LSTM only if it wins elsewhere.",
            [])


def _looser(c: Changes) -> Changes:
    """Less regularisation: no L1 penalty, weight decay and dropout back to moderate values."""
    if c.get("training.l1_penalty") > 0:
        c.set("training.l1_penalty", 0.0)
    if c.get("training.weight_decay") > 1e-3:
        c.set("training.weight_decay", 1e-4)
    if c.get("model.dropout") > 0.2:
        c.set("model.dropout", 0.1)
    return c




def _cycle_inputs(c: Changes, lag: int | None) -> Changes:
    """A window of two cycles (`lag` read from the data, else the season) and calendar inputs:
    the model sees the same phase twice, and where in the cycle each step is."""
    need = 2 * (lag or c.get("evaluation.season"))
    if c.get("forecast.input_size") < need:
        c.set("forecast.input_size", need)
    if c.get("features.calendar") == "none":
        c.set("features.calendar", "auto")
    return c


EXPECTED = ("Nothing to change: persistence is the best forecast of a series whose changes are "
            "not predictable from its past; use the naive forecast.")


def flat_forecast(cfg: dict | None, cause: str | None = None, lag: int | None = None) -> Remedy:
    if cause == "expected":
        return EXPECTED, []
    if cause == "horizon":
        c = _capacity(_looser(_cycle_inputs(Changes(cfg), lag)))
        return ("The forecast misses the cycle the actuals repeat within the horizon: give the "
                "model a window of two cycles, the calendar, and room to fit the cycle (less "
                "regularisation, more units).", c.items)
    c = _capacity(_differenced(_looser(Changes(cfg))))
    return ("The model ignores its inputs and forecasts about one value: loosen the "
            "regularisation (an L1 penalty or heavy weight decay drives the weights to zero), "
            "forecast changes from the last value rather than levels, and give it more "
            "units.", c.items)


def lagged_copy(cfg: dict | None, cause: str | None = None, lag: int | None = None) -> Remedy:
    if cause == "expected":
        return EXPECTED, []
    c = _capacity(_cycle_inputs(_looser(Changes(cfg)), lag))
    return ("The model forecasts no change, so its forecast is the last value shifted: loosen "
            "the regularisation, give it a window of two cycles and the calendar so the part "
            "that repeats is in view, and more units. On a series without a trend a level "
            "target (preprocess.target_transform=level) forecasts the cycle directly.", c.items)


def short_context(cfg: dict | None, cause: str | None = None, lag: int | None = None) -> Remedy:
    if cause == "expected":
        return EXPECTED, []
    c = _cycle_inputs(Changes(cfg), lag)
    return ("Lengthen the input window to two cycles, so the model reads what happened one "
            "cycle ago, and give it calendar inputs (where in the cycle each step is).", c.items)


# The causes a detector may pass besides None, per finding (the tests validate every pair).
CAUSES = {"divergence": ("data",), "flat_forecast": ("horizon", "expected"),
          "lagged_copy": ("expected",), "short_context": ("expected",)}
REMEDIES: dict[str, Callable[..., Remedy]] = {
    f.__name__: f for f in (
        divergence, exploding_gradients, vanishing_gradients, overfitting, underfitting,
        plateau, not_converged, noisy_optimisation, distribution_shift, worse_than_baseline,
        miscalibrated, flat_forecast, lagged_copy, short_context, no_signal, linear_enough,
    )
}
