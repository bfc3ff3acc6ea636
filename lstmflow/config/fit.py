"""Config sections `model` (LSTM capacity, loss) and `training` (optimiser and guards)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from lstmflow.config.base import _Section


class ModelConfig(_Section):
    """LSTM capacity, regularisation and loss: each guard is a visible field."""

    hidden_size: int = Field(
        64, ge=1, le=4096,
        description="LSTM hidden units per layer: too few underfit, too many overfit small data.",
    )
    num_layers: int = Field(
        2, ge=1, le=8,
        description="Stacked LSTM layers; more than 2-3 make gradients vanish or explode.",
    )
    dropout: float = Field(
        0.1, ge=0, lt=1, description="Dropout between LSTM layers and before the head."
    )
    input_dropout: float = Field(
        0.0, ge=0, lt=1,
        description="While training, drop each input feature but the target for a whole "
        "window with this probability (one mask per window, the same at every step: "
        "variational dropout, Gal & Ghahramani 2016), so the network cannot lean on a few "
        "features; regularises small data with many features. 0 (default): off. No effect at "
        "forecast time.",
    )
    segment_len: int | None = Field(
        None, ge=1, le=64,
        description="Steps the LSTM reads at once (1..64; empty: the power of two nearest "
        "input_size / 12, so a window is about 12 recurrent steps): the input window is cut "
        "into segments of this many steps, aligned on the forecast origin, and each recurrent "
        "step reads one whole segment, so a fit costs about 1/segment_len of the recurrent work "
        "(SegRNN, Lin et al. 2023). Training forecasts from every segment end instead of every "
        "step (training.burn_in still counts steps). When segment_len does not divide "
        "input_size, the oldest input_size % segment_len steps of a window are not read. 1 "
        "gives the step-by-step LSTM of earlier versions. At most forecast.input_size.",
    )
    highway: int = Field(
        0, ge=0, le=10000,
        description="Linear highway (LSTNet, Lai et al. 2018): a linear map of the last this "
        "many values of the transformed target is added to the LSTM's forecast, so the "
        "network models what a linear autoregression cannot. 0 (default): off. At most "
        "forecast.input_size.",
    )
    loss: Literal["mse", "mae", "huber", "quantile"] = Field(
        "huber",
        description="Training loss; 'quantile' fits the `quantiles` (pinball loss) for "
        "prediction intervals, and the 0.5 quantile is the point forecast.",
    )
    huber_delta: float = Field(
        1.0, gt=0, description="Huber loss: errors beyond this (scaled units) count linearly."
    )
    cumulative_target: bool = Field(
        False,
        description="With a 'diff' or 'log_return' target, train step h on the change since "
        "the forecast origin (the sum of the first h scaled increments) instead of the h-th "
        "increment alone, so each step's error is fitted directly rather than accumulated when "
        "the forecast is turned back into levels. No effect on a 'level' target. Off by default: "
        "on the dev series it did not help (co2 0.331 -> 0.349, air passengers 0.417 -> 0.424 "
        "rel MAE, model alone).",
    )
    blend_baselines: bool = Field(
        True,
        description="After training, blend each horizon step's forecast with the naive and "
        "seasonal-naive forecasts, weights (0..1 in steps of 0.1, summing to 1) chosen by MAE "
        "on the validation split only and saved in the model's state; the model alone where "
        "no blend helps on validation.",
    )
    blend_tolerance_se: float = Field(
        1.0, ge=0, le=10,
        description="The blend's one-standard-error rule (0..10): per horizon step, the "
        "simplest of (the better baseline, the model alone, the best blend) whose validation "
        "MAE is within this many standard errors of the lowest is used (standard errors from "
        "blocks of neighbouring origins). 0 takes the lowest validation MAE however small the "
        "gain; on a random walk the rule keeps the random walk instead of a gain that is noise.",
    )
    quantiles: list[float] = Field(
        [0.1, 0.5, 0.9],
        min_length=1,
        max_length=99,
        description="Quantile loss only: levels in (0, 1), increasing, 0.5 included.",
    )

    @model_validator(mode="after")
    def _check_quantiles(self) -> ModelConfig:
        q = self.quantiles
        if any(not 0 < v < 1 for v in q) or sorted(set(q)) != q or 0.5 not in q:
            raise ValueError("model.quantiles must be increasing levels in (0, 1) that include 0.5")
        return self


class TrainingConfig(_Section):
    """Optimisation, the training budget and the guards against over- and under-fitting.

    The budget is counted in optimizer steps and wall time, not epochs: `None` on a budget key
    means "chosen from the data" (see lstmflow/fit/budget.py; the values used are recorded in
    summary.json under training.budget).
    """

    max_steps: int | None = Field(
        None, ge=1, le=10_000_000,
        description="Upper bound on optimizer steps (1..10,000,000); chosen from the data when "
        "absent. Early stopping and max_time_minutes usually end the fit before it.",
    )
    min_steps: int | None = Field(
        None, ge=0, le=10_000_000,
        description="Optimizer steps before early stopping may end the fit (0..10,000,000); "
        "chosen from the data when absent.",
    )
    val_check_steps: int | None = Field(
        None, ge=1, le=1_000_000,
        description="Optimizer steps between validation checks (1..1,000,000); each check "
        "records one history row, may save best weights, checkpoint and stop early. Chosen "
        "from the data when absent.",
    )
    max_epochs: int | None = Field(
        None, ge=1, le=10000,
        description="Deprecated (1..10000): an epoch budget. When set, the fit validates once "
        "per pass over the training windows and stops after this many passes (the behaviour "
        "before step budgets); prefer max_steps.",
    )
    batch_size: int | None = Field(
        None, ge=1, le=65536,
        description="Windows per batch (1..65536): smaller is noisier, larger is slower per "
        "step. Chosen from the number of training windows when absent.",
    )
    learning_rate: Annotated[float, Field(gt=0, le=1)] | Literal["auto"] = Field(
        3e-3,
        description="Initial learning rate in (0, 1] (3e-3 converges within the step budget "
        "with clipping at 1 and the plateau schedule), or 'auto': found by Lightning's "
        "learning-rate finder on the training split (the curve is saved as lr_find.json in "
        "the run folder, the value in summary.json).",
    )
    optimizer: Literal["adam", "adamw", "rmsprop"] = Field(
        "adamw", description="Optimiser; AdamW applies weight decay decoupled from the gradient."
    )
    weight_decay: float = Field(1e-4, ge=0, le=1, description="L2 weight decay.")
    l1_penalty: float = Field(
        0.0, ge=0, le=1, description="L1 penalty on the weights (sum |w| x this); 0 is off."
    )
    gradient_clip: float = Field(1.0, ge=0, description="Max gradient norm; 0 turns clipping off.")
    scheduler: Literal["plateau", "cosine", "none"] = Field(
        "plateau",
        description="Learning-rate schedule: 'plateau' lowers it when val loss stalls, "
        "'cosine' anneals it over max_steps.",
    )
    lr_factor: float = Field(
        0.5, gt=0, lt=1, description="Plateau: multiply the learning rate by this on a stall."
    )
    lr_patience: int | None = Field(
        None, ge=0, le=1000,
        description="Plateau: stalled validation checks before lowering the rate (0..1000); "
        "default patience // 2.",
    )
    min_lr: float = Field(1e-6, ge=0, description="Floor of the learning rate for both schedules.")
    patience: int = Field(
        5, ge=1, le=1000,
        description="Early stopping: validation checks without val-loss improvement before "
        "stopping (1..1000; epochs when max_epochs is set); the best check's weights are "
        "restored.",
    )
    min_delta: float = Field(
        0.0, ge=0, description="Early stopping: smallest val-loss drop that counts as better."
    )
    burn_in: int = Field(
        8, ge=0, description="Steps at the start of a window that get no loss (state warm-up)."
    )
    every_step: bool = Field(
        True,
        description="Loss on every step of a window after burn-in (many targets per pass); "
        "False puts it on the last step only.",
    )
    window_stride: int | None = Field(
        None, ge=1, le=100_000,
        description="Steps between consecutive training windows of a series (1..100,000); "
        "chosen from the number of rows when absent (every origin up to ~1M windows). Raised to "
        "the next value with no factor in common with model.segment_len, so the segment ends "
        "of the windows cover every row (summary.json: training.budget.window_stride).",
    )
    max_windows_per_epoch: int | None = Field(
        None, ge=1,
        description="Deprecated with step budgets: windows drawn between validation checks "
        "(sets val_check_steps = this / batch_size). With max_epochs: a cap on windows per "
        "epoch (a fresh random sample each epoch).",
    )
    max_time_minutes: float = Field(
        30, gt=0, le=100_000,
        description="Wall-time budget for training in minutes (all repair attempts together); "
        "stops cleanly when spent.",
    )
    auto_repair: int = Field(
        2, ge=0, le=10,
        description="Automatic repair rounds (0..10; 0 = off, a single fit): when the "
        "diagnosis of a fit on the validation period finds a warning or error with a remedy, "
        "refit with the remedy applied (same split and seed) and keep the attempt with the best "
        "validation score (MAE over naive's, original units); the test period is never read "
        "to choose. All attempts share max_time_minutes.",
    )
    repair_time_factor: float = Field(
        0.6, ge=0.1, le=100,
        description="Automatic repair: the refits together take at most this multiple of the "
        "first fit's time (0.1..100; within max_time_minutes; at least 5 s: a fit cut short by "
        "its problem, or a sub-second one, says nothing of what a refit needs). A "
        "refit starts only while half of that share is left and stops cleanly, best weights "
        "kept, when its time is spent; a refit whose remedy keeps the network's shape starts from its "
        "parent's trained weights with training.warm_steps of the budget, so the default 0.6 "
        "keeps a run's fits within about 1.6x a single fit. Not applied when the first fit "
        "broke (e.g. diverged early): then the run's budget bounds the refits.",
    )
    warm_start: Literal["auto", "never", "always"] = Field(
        "auto",
        description="Start from the champion's weights when its network fits this run (same "
        "inputs, window, horizon, transform and architecture) and train a shorter budget "
        "(warm_steps); the scalers are refitted as always. 'auto' falls back to a cold start "
        "when the warm fit's validation error is worse than the champion's on the same points "
        "by more than warm_tolerance, or its validation diagnosis finds an error; 'never' "
        "always starts from random weights.",
    )
    warm_steps: float = Field(
        0.2, gt=0, le=1,
        description="A warm start's step budget as a share of the cold one (max_steps; whole "
        "validation checks of half the cold interval, at least two), its early-stopping "
        "patience the same share of "
        "training.patience (at least one check); the best check's weights kept as in any fit. "
        "Also the budget of a repair attempt that continues its parent's weights.",
    )
    warm_lr_scale: float = Field(
        0.3, gt=0, le=1,
        description="A warm start from the champion trains at this share of the learning rate "
        "(the champion's own when learning_rate is 'auto'): it continues a fit near its "
        "optimum, where the full rate first moves it away (measured on hourly temperature: a "
        "warm fit's validation MAE 0.539 of naive's against the champion's 0.510). 1: the full "
        "rate.",
    )
    warm_tolerance: float = Field(
        0.05, ge=0, le=10,
        description="warm_start 'auto': the warm fit is kept unless its validation MAE over "
        "naive's exceeds the champion's on the same points by more than this share.",
    )
    accelerator: Literal["auto", "cpu", "gpu"] = Field(
        "auto",
        description="Where the network trains: 'auto' takes a GPU when torch sees one, else the "
        "CPU; 'gpu' refuses to run without one. Evaluation, the registry and predict run on "
        "the CPU whatever trained the model.",
    )
    precision: Literal["auto", "32-true", "16-mixed", "bf16-mixed"] = Field(
        "auto",
        description="Lightning's training precision: 'auto' is 32-true on the CPU and mixed "
        "precision on a GPU (bf16-mixed where the GPU supports it, else 16-mixed).",
    )
    seed: int = Field(42, ge=0, description="Seed for torch, numpy and python.")
    deterministic: bool = Field(
        False,
        description="torch deterministic algorithms: bit-for-bit repeatable fits, a little slower.",
    )

    @model_validator(mode="after")
    def _check_budget(self) -> TrainingConfig:
        if self.max_steps is not None and self.min_steps is not None \
                and self.min_steps > self.max_steps:
            raise ValueError("training.min_steps must not exceed training.max_steps")
        return self
