"""Every threshold the diagnosis uses, in one place, each with the reason for its value.

Sources: AutoTrainer (Zhang et al., ICSE'21; TDSC'24), whose defaults were validated on 701
models with no false alarms; DeepDiagnosis (Wardat et al., ICSE'22); Prechelt, "Early stopping,
but when?" (1998); and measurements on real series (bench/diagnosis_cases.py prints them:
weekly CO2, daily stock prices and the research series). None is tuned to the bundled sample.
Losses are compared with the loss of a constant forecast (`*_loss_zero`, recorded by the
training loop on the same targets), so the thresholds do not depend on the units of the data.
"""

# --- divergence -------------------------------------------------------------------------------
# An epoch's train or val loss at this multiple of the constant-forecast loss means the updates
# threw the weights far from any useful region: a freshly initialised network outputs values
# near 0, so it starts at about the constant-forecast loss. AutoTrainer calls a loss "exploded"
# at 1e5 on unnormalised losses; scaled targets make the constant forecast score ~0.5, so
# "orders of magnitude above the start" becomes this ratio. Bench (6 real series x 10 cases):
# fits that did not blow up peaked at 3.5x (first epoch 0.2-2.9x), RMSprop at lr 1 reached
# 18-40x, unclipped deep stacks 1.7e3-2.8e4x.
LOSS_BLOWUP = 10.0
# The epoch-mean training loss ending at this multiple of its own minimum: the optimiser is
# climbing its objective. Bench: at most 1.05 on fits that did not blow up (1.22 for 6-layer
# stacks at lr 0.5), up to 824 on blow-ups.
TRAIN_RISE = 2.0

# A scaled target (centred, divided by its training spread) beyond this in absolute value is a
# corrupt or unscaled value, not a fit's doing: float32 squares overflow from ~1.8e19, while
# real scaled series stay within tens (bench: |z| <= 8.1 on the six series as they are, 151
# at the jump of a period multiplied by 3).
DATA_BLOWUP = 1e6

# --- gradients (AutoTrainer's defaults, Zhang et al. ICSE'21) ----------------------------------
# beta_3: first-layer gradient norm above 70x the last layer's (here: the head's) is an
# exploding gradient. Bench: 0.07-14x on every fit that did not blow up, 144-8.9e3x for RMSprop
# at lr 1, 2e9-5e26x for unclipped 4-layer stacks.
EXPLODE_RATIO = 70.0
# Or the whole gradient's norm before clipping reaches EXPLODE_ABS: targets are scaled, so a
# sound fit's loss and gradient stay near 1. bench/diagnosis_cases.py, 6 real series: healthy,
# default, overfitting and noisy fits 0.05-1.6, RMSprop at lr 1 (divergence) 0.6-3.8, 6-layer
# stacks at lr 0.5 up to 72; unclipped 4-layer stacks 1.9e4-2.7e5 (on weekly CO2 its first
# layer's norm was only 28x the head's).
EXPLODE_ABS = 1e3
# beta_1 and beta_2: first-layer norm below 1e-3 x the last layer's AND below 1e-4 in absolute
# terms is a vanishing gradient (both, so a model that has simply converged is not flagged).
# Bench: 6-layer stacks at lr 0.5 ended with first-layer norms of 5e-27 to 2e-10.
VANISH_RATIO = 1e-3
VANISH_ABS = 1e-4

# --- plateau ----------------------------------------------------------------------------------
# AutoTrainer's slow-convergence delta: the best improvement stays under 1% (it reads accuracy
# points; a loss reads relatively). Applied to the val loss over the whole run.
PLATEAU_GAIN = 0.01
# DeepDiagnosis flags a learning rate as too low when lr*|dw|/|w| < 1e-3 per update; applied to
# a whole epoch's relative weight change it is stricter (an epoch holds >= 1 update), so a run
# below it was certainly not moving. Bench: fits at lr 1e-6 moved 1.4e-5 to 4.8e-5 an epoch
# (val gain <= 0.01%); every other fit moved >= 1.7e-3 (hidden size 1, 4 batches an epoch),
# most 0.01-1.
PLATEAU_WEIGHT_CHANGE = 1e-3
MIN_EPOCHS_PLATEAU = 3  # fewer epochs cannot tell a plateau from a slow start

# --- over/under-fitting and convergence -------------------------------------------------------
# Prechelt's generalisation loss GL = val / best val - 1; he stops at GL_alpha with alpha up to
# 5%: a val loss 5% above its best while the training loss keeps falling is overfitting.
OVERFIT_GL = 0.05
# Memorising: any rise off the best val loss while the training loss falls to this share of
# its value at the best check. On a noisy series the val loss can barely move while the network
# learns its training windows by heart (weekly gasoline, 128 units: train loss 0.28 -> 0.0007,
# val +4.7%); healthy fits of the case bench end at 0.7-1.0x their best check's train loss.
OVERFIT_MEMORISED = 0.5
# By heart: the lowest train loss under this share of a constant forecast's while the val loss
# never got below a constant forecast's. 400 weekly gasoline points, 128 units: train 0.0001 of
# the constant's 0.42, val 0.93 against 0.80 (the val loss never rose, so neither rule above
# fires). Fits of the case bench that learn end at 0.2-0.95 of the constant in training.
OVERFIT_BY_HEART = 0.05
TRAIN_FALLING = 0.02  # train loss at the end at least 2% below its value at the best epoch
# Underfitting: the model removed less than this share of what a linear autoregression of the
# changes removes out of sample (stats.predictability). A fitted LSTM matches a linear model in
# sample; half accounts for losses (MAE, Huber, pinball) that shrink less than MSE does for the
# same gain: 1 - sqrt(1 - R2) >= R2 / 2 for MAE under normal errors.
UNDERFIT_SHARE = 0.5
# On a series with nothing to learn (no_signal) a fit can at best match the constant forecast
# in training, and a working one gets close (bench: stocks and S&P 500 fits end at 0.5-0.99 of
# it): a lowest training loss 10% or more above it means the model could not fit even that.
UNDERFIT_ABOVE_ZERO = 0.10
# Not converged: the val loss was lowest in one of the last 2 epochs and still fell by this
# share over the last third of the run: early stopping did not end the fit, the budget did.
NOT_CONVERGED_LAST = 2
NOT_CONVERGED_GAIN = 0.01

# --- noisy optimisation (bench/noisy_signal.py, bench/diagnosis_cases.py) ---------------------
# Two signs, either names it (over at least MIN_EPOCHS_NOISE checks, medians over the checks):
# the val loss jumps at least NOISE_JITTER off the line through its neighbours (noise.jitter),
# or the gradient is mostly noise, grad_signal at most NOISE_SIGNAL (models/callbacks.py:
# mean(g_t . g_t-1) / mean|g_t|^2, about 1 / (1 + B_noise / B): noise 9x the signal or more),
# while the weights move at least NOISE_TRAVEL of their norm a check (a random walk in weight
# space). Measured on 6 real series (series config; batch 2..128 x rate 3e-3..5e-2 x 3 seeds,
# 170 fits): reference fits (batch 64, 3e-3, plateau) jump 0.6-2.7%; where noise cost 5%+ of
# the reference's best val loss (half-hourly demand, batch 2-4: 1.3-1.9x; daily births at
# 1e-2..3e-2: 1.1-1.25x) the val loss jumped 2-13%. Batch 1 at 5e-2 on weekly CO2, gasoline
# and S&P 500 leaves the val curve smooth (jumps under 1%) but reads grad_signal 0.03-0.09 with
# the weights moving 36-58% a check; the series' own configs read 0.10-0.24 and move 6-39%
# (no config reads both). Noise alone is no fault: batch 2 at 3e-3 with the plateau schedule
# fits as well as the reference.
NOISE_JITTER = 0.04
NOISE_SIGNAL = 0.10
NOISE_TRAVEL = 0.30
MIN_EPOCHS_NOISE = 5

# --- data: distribution shift and predictability ----------------------------------------------
# The spread (1.4826 MAD) of the scaled target in val or test is this factor above or below
# the training spread, or its median moved by this many training spreads. Robust statistics,
# so one jump does not count. A factor 2 in the spread of standardised inputs takes the LSTM's
# gates to regions the training barely visited; smaller changes are ordinary drift. Bench:
# val/test over train spreads of 0.6-1.4 on CO2, gasoline, electricity and the stocks; beyond
# 2 only real regime changes (S&P 500 in Q4 2018: 2.65; Seattle's winter diurnal range: 0.25)
# and the induced x3 test periods (2.97-3.13).
SHIFT_SPREAD = 2.0
SHIFT_LOCATION = 1.0
# Levels: a later period whose median level lies more than this many training ranges outside
# the training part's range (max - min) left the world the model learned, whatever the target
# transform makes of it (a x3 jump on weekly CO2: 9 ranges; the test periods of the bench series
# with a trend, S&P 500 and the sample's stocks, stay within 0.4).
LEVEL_OUTSIDE = 1.0
# No signal: a linear model of past changes explains at most 1% of the variance of future
# changes out of sample (Campbell & Thompson 2008 read ~0.5-1% monthly R2 as the edge of what
# is exploitable in stock returns) and the model's MAE is no more than 2% below naive's.
# Bench R2: stocks -5% to -1.4%, S&P 500 -0.3%; gasoline 6.3%, CO2 14%, electricity 89%.
NO_SIGNAL_R2 = 0.01
NO_SIGNAL_GAIN = 0.02
# linear_enough: the whole network's validation MAE less than 2% below its linear highway's
# alone. 2%: the same noise band as NO_SIGNAL_GAIN; one fit's test MAE moves 2-3% between seeds
# (bench/seed_spread.py: hourly temperature 0.685-0.702 of seasonal naive over three seeds).
LSTM_ADDS = 0.02
AR_LAGS = 8  # recent changes in the linear model (plus the seasonal lag)
AR_MAX_ROWS = 20000  # newest training rows it is fitted on (bounds the cost on long series)
AR_STEPS = 4  # horizon steps it is scored at (evenly spaced, first and last included)
STATS_MAX_SERIES = 100  # series of a panel whose predictability is measured (cost bound)

# --- the shape of the forecasts (shape.py, forecasts.py) and the cycle in the data (cycles.py) ---
# Bench: bench/forecast_findings.py on weekly CO2, hourly Minneapolis and Seattle temperature,
# half-hourly British demand (taylor), monthly air passengers, weekly US gasoline, 5-minute
# Yosemite temperature, daily S&P 500 and the stock sample.
# flat_forecast: the forecasts over the test origins spread at most this fraction of the
# actuals' spread (and lose to a baseline). The best forecast of a quantity (its conditional
# mean) has a variance of R2 times the quantity's, so a spread ratio r caps the variance a
# forecast explains near r^2: below 0.25 that is 6%, while persistence explains most of it on
# any series with memory. Bench: fits that did not collapse spread 0.66-1.12x the actuals;
# level-target models collapsed by an L1 penalty 0.02-0.16x.
FLAT_SPREAD = 0.25
# Along each origin's path the same ratio (swing of the model's paths over the actuals'),
# read only where the actual paths repeat a cycle: the seasonal-naive path predicts their shape
# better than a flat line (skill above 0). Bench: skill 0.92-1.0 on half-hourly demand, Seattle,
# Yosemite and air passengers (horizon of 12-48 steps); -0.17 to -0.15 on CO2 and Minneapolis
# (weekly and hourly noise over 4 and 24 steps), -2.2 to -0.8 on prices.
FLAT_PATH_SKILL = 0.0
# lagged_copy: the model's errors correlate at least this much with naive's and its MAE is not
# more than LAGGED_GAIN below naive's (it gains nothing on a copy; an MAE above naive's is a
# copy with noise or a bias on top). A model whose forecast is persistence plus its own
# independent part d makes errors e - d, correlated 1/sqrt(1 + var d / var e) with naive's:
# 0.95 means d is under a third of naive's error. Bench: difference-target fits collapsed by an
# L1 penalty 0.98-1.0 (MAE 4% below to 14% above naive's); fits that learned something 0.19-0.92
# (weekly gasoline 0.83-0.92), monthly air passengers 0.95-0.96 but 25-37% better than naive.
LAGGED_CORR = 0.95
LAGGED_GAIN = 0.05
# short_context (cycles.py): the k-step changes (k a quarter of the lag) correlate at least
# this much with those one cycle earlier. With correlation rho the previous cycle's change
# predicts this one's with error variance 2(1 - rho) of the changes' variance: it beats "no
# change" exactly when rho > 0.5, so from there on the cycle carries more than the noise.
# Measured on the training part (80%) of the research series: Seattle 1.0 at 24 h, Minneapolis
# 0.75 at 24 h, half-hourly demand 0.90-0.94 at 48, CO2 0.94 at 52 weeks, gasoline 0.53 at 51
# weeks, Yosemite 0.92 at 287 x 5 min, bank calls 0.90 at 288 x 5 min, air passengers 0.91 at
# 12 months, Clemson daily temperature 0.62 at 357 days; no cycle in S&P 500, DJIA, the five
# stocks, sunspots, Key West water temperature, Beijing PM2.5, sea surface temperature, water
# flow or household power (all below 0.5 at every lag, or never negative in between).
CYCLE_ACF = 0.5
CYCLE_MIN_REPEATS = 4  # the training part holds the cycle at least 4 times (else not learnable)
CYCLE_MAX_LAG = 5000  # the longest window forecast.input_size allows
CYCLE_MAX_ROWS = 100_000  # training rows searched for cycles in a panel (cost bound: ~0.5 s)

# --- evaluation -------------------------------------------------------------------------------
# The promotion rule: relative MAE (geometric mean over series) of 1 or more means worse.
WORSE = 1.0
# Worse than a baseline by this factor is an error whatever the data explains: no_signal
# excuses a model at naive's level, not far above it. Seed spread (docs/benchmarks.md): fits
# differing only in the seed moved model/naive by at most exp(0.172) = 1.19x (S&P 500), and the
# worst seed on the random-walk series scored 1.22x naive; 1.5x is more than twice that
# distance in log terms (log 1.5 = 0.41), so seed noise does not reach it.
WORSE_ERROR = 1.5

# miscalibrated: an interval's test coverage is outside nominal +- COVERAGE_Z binomial standard
# errors, counted over the independent forecast paths (calibrated.independent: test points /
# horizon^2. The steps of one origin share most of their error, and origins closer than the
# horizon forecast the same rows: 336 hourly test points at horizon 24 are 14 days, not 336
# origins; Minneapolis' 80% interval holding 61% of them is within what 14 days can say)
COVERAGE_Z = 1.96
