"""The forecaster's network in plain torch (no Lightning): what a saved version loads into.

`LSTMForecaster` (models/lstm.py) builds its layers with `add_layers` and runs `forecast_all`,
so a state dict saved from it loads into `LSTMNet` as it is (the same parameter names), and
prediction never imports Lightning (~5-7 s of start-up).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

DEFAULT_QUANTILES = (0.1, 0.5, 0.9)


def quantile_levels(loss: str, quantiles: Sequence[float] | None) -> list[float] | None:
    """The levels the head emits: the given ones (default 0.1/0.5/0.9) under the quantile loss,
    None (one point forecast) otherwise."""
    if loss != "quantile":
        return None
    levels = list(quantiles or DEFAULT_QUANTILES)
    if 0.5 not in levels:
        raise ValueError("quantile loss needs the 0.5 level (the point forecast)")
    return levels


def add_layers(module: nn.Module, n_inputs: int, horizon: int, hidden_size: int,
               num_layers: int, dropout: float, quantiles: list[float] | None,
               segment_len: int = 1, highway: int = 0, n_known: int = 0) -> None:
    """The layers `lstm`, `drop`, `head` (their names are the state dict's keys), the number of
    levels `n_q`, the index of the median and the levels as a non-saved buffer. With
    `segment_len` p > 1 the LSTM reads p steps at once (p x n_inputs values per recurrent step).
    With `highway` w > 0, a linear map `highway` of the last w target inputs (input 0) is added
    to every level of the head's forecast (LSTNet's autoregressive highway). With `n_known`
    K > 0 the last (H + 1) x K inputs are the values of K inputs known ahead at the step itself
    and the next H (lstmflow.data.known); the LSTM reads the others, and the known head
    (`known_*`) adds to each step's forecast what that step's known inputs say (beside the step
    before's and the origin's), given the LSTM's state."""
    module.segment_len, module.highway_len, module.n_known = segment_len, highway, n_known
    n_past = n_inputs - (horizon + 1) * n_known  # inputs the LSTM reads
    module.lstm = nn.LSTM(n_past * segment_len, hidden_size, num_layers=num_layers,
                          batch_first=True, dropout=dropout if num_layers > 1 else 0.0)
    module.drop = nn.Dropout(dropout)
    module.n_q = len(quantiles) if quantiles else 1
    module.median_index = quantiles.index(0.5) if quantiles else 0
    module.head = nn.Linear(hidden_size, horizon * module.n_q)
    module.highway = nn.Linear(highway, horizon) if highway else None  # after the head: the
    # parameter order (first LSTM layer first) is what the gradient findings read
    if n_known:
        width = max(8, hidden_size // 2)  # d: the known head's hidden units
        module.known_state = nn.Linear(hidden_size, width)  # the LSTM's state, once per origin
        module.known_in = nn.Linear(3 * n_known, width, bias=False)  # step's, previous', origin's
        module.known_step = nn.Parameter(torch.zeros(horizon, width))  # which step ahead
        module.known_out = nn.Linear(width, module.n_q)
    module.register_buffer("q_levels", torch.tensor(quantiles or [0.5], dtype=torch.float32),
                           persistent=False)


def init_weights(module: nn.Module, generator: torch.Generator) -> None:
    """Draw the initial weights of `lstm` and `head` from `generator`, with torch's own
    default distributions (LSTM: U(-1/sqrt(hidden), 1/sqrt(hidden)) for every parameter;
    Linear: Kaiming-uniform weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias), so that the
    weights never depend on the process-wide random stream other fits draw from."""
    with torch.no_grad():
        bound = 1 / math.sqrt(module.lstm.hidden_size)
        for p in module.lstm.parameters():  # in registration order: a fixed draw order
            nn.init.uniform_(p, -bound, bound, generator=generator)
        head = module.head
        nn.init.kaiming_uniform_(head.weight, a=math.sqrt(5), generator=generator)
        fan_in = head.weight.shape[1]
        nn.init.uniform_(head.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in),
                         generator=generator)
        if getattr(module, "highway", None) is not None:  # starts as no change: the LSTM's fit
            nn.init.zeros_(module.highway.weight)
            nn.init.zeros_(module.highway.bias)
        if getattr(module, "n_known", 0):  # its output layer starts at 0: no change either
            for layer in (module.known_state, module.known_in):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(module.known_state.weight.shape[1])
            nn.init.uniform_(module.known_state.bias, -bound, bound, generator=generator)
            nn.init.zeros_(module.known_step)
            nn.init.zeros_(module.known_out.weight)
            nn.init.zeros_(module.known_out.bias)


def segment_ends(length: int, segment_len: int) -> torch.Tensor:
    """Positions in a window of `length` steps where a segment ends: the steps the network
    forecasts from, the last one always the window's own last step (the forecast origin).
    The first length % segment_len steps are dropped, so segments align on the origin."""
    first = length % segment_len + segment_len - 1
    return torch.arange(first, length, segment_len)  # [L // p]


def segments(x: torch.Tensor, segment_len: int) -> torch.Tensor:
    """[B, L, F] -> [B, L // p, p * F]: p consecutive steps side by side, aligned on the last
    step (a view when p is 1 or divides L). Each segment holds only rows up to its own end."""
    if segment_len == 1:
        return x
    b, length, f = x.shape
    keep = length - length % segment_len
    return x[:, length - keep :].reshape(b, keep // segment_len, segment_len * f)


def drop_inputs(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """[B, L, F] -> [B, L, F]: in training, each input but the target (input 0) zeroed for the
    whole window with probability p, the kept ones scaled by 1/(1-p); unchanged otherwise."""
    if not training or p <= 0 or x.shape[-1] < 2:
        return x
    keep = torch.empty(x.shape[0], 1, x.shape[-1], device=x.device).bernoulli_(1 - p) / (1 - p)
    keep[..., 0] = 1.0  # the target itself is never dropped
    return x * keep


def forecast_all(module: nn.Module, x: torch.Tensor, horizon: int) -> torch.Tensor:
    """[B, L, F] -> [B, L', H, Q]: an H-step forecast (Q levels) from every segment end
    (L' = L // segment_len; every timestep when segment_len is 1), the last from step L."""
    lead = (horizon + 1) * getattr(module, "n_known", 0)  # lead columns
    x, leads = (x[..., : x.shape[-1] - lead], x[..., x.shape[-1] - lead :]) \
        if lead else (x, None)  # [B, L, F0], [B, L, (H + 1) * K]
    if getattr(module, "highway_alone", False):  # the diagnosis' contrast: the linear part only
        return highway_all(module, x).unsqueeze(-1).expand(-1, -1, -1, module.n_q).contiguous()
    x = drop_inputs(x, getattr(module, "input_dropout", 0.0), module.training)
    out, _ = module.lstm(segments(x, module.segment_len))  # [B, L', hidden]
    b, l_, _ = out.shape
    pred = module.head(module.drop(out)).view(b, l_, horizon, module.n_q)
    if leads is not None:
        pred = pred + known_all(module, module.drop(out), leads, horizon)
    if getattr(module, "highway", None) is None:
        return pred
    return pred + highway_all(module, x).unsqueeze(-1)


def known_all(module: nn.Module, state: torch.Tensor, leads: torch.Tensor,
              horizon: int) -> torch.Tensor:
    """[B, L', hidden], [B, L, (H + 1) * K] -> [B, L', H, Q]: what each forecast step's known
    inputs add, from every segment end: relu(state part + inputs part + step part) -> levels;
    step h's inputs part reads the known values of step h, step h - 1 and the origin."""
    ends = segment_ends(leads.shape[1], module.segment_len).to(leads.device)
    b, l_ = state.shape[:2]
    ahead = leads[:, ends].view(b, l_, horizon + 1, module.n_known)  # [B, L', H + 1, K]
    pairs = torch.cat([ahead[:, :, 1:], ahead[:, :, :-1],
                       ahead[:, :, :1].expand(-1, -1, horizon, -1)], dim=-1)  # [B, L', H, 3K]
    u = module.known_state(state).unsqueeze(2) + module.known_in(pairs) + module.known_step
    return module.known_out(torch.relu(u))  # [B, L', H, Q]


def highway_all(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """[B, L, F] -> [B, L', H]: the linear highway's forecast from every segment end, each from
    the w target inputs up to and including that step (zeros before the window's start)."""
    w = module.highway_len
    z = nn.functional.pad(x[..., 0], (w - 1, 0))  # [B, L + w - 1]
    windows = z.unfold(1, w, 1)  # [B, L, w]: row t holds steps t-w+1 .. t
    ends = segment_ends(x.shape[1], module.segment_len).to(x.device)
    return module.highway(windows[:, ends])  # [B, L', H]


@contextmanager
def highway_alone(module: nn.Module) -> Iterator[nn.Module]:
    """The module forecasting with its linear highway only (no LSTM, head or known head) inside
    the block: what the diagnosis compares the whole network with."""
    module.highway_alone = True
    try:
        yield module
    finally:
        module.highway_alone = False


class Forecasts:
    """The predict methods both networks share (a mixin over an nn.Module built by add_layers)."""

    @torch.no_grad()
    def predict_quantiles(self, x: torch.Tensor) -> torch.Tensor:
        """All levels from the last step of each window: [B, L, F] -> [B, H, Q], always as
        per-step increments (a cumulative head is differenced back; re-cumulating is exact)."""
        self.eval()
        out = self(x)[:, -1]  # [B, H, Q]
        if getattr(self, "cumulative", False):
            out = torch.diff(out, dim=1, prepend=torch.zeros_like(out[:, :1]))
        return out

    @torch.no_grad()
    def predict_last(self, x: torch.Tensor) -> torch.Tensor:
        """Point forecast (the median under quantile loss) from the last step: [B, L, F] -> [B, H]."""
        return self.predict_quantiles(x)[..., self.median_index]


class LSTMNet(Forecasts, nn.Module):
    """Inference-only twin of LSTMForecaster: same layers, same forward, same predict methods."""

    def __init__(self, n_inputs: int, horizon: int, hidden_size: int = 64, num_layers: int = 2,
                 dropout: float = 0.1, loss: str = "huber",
                 quantiles: Sequence[float] | None = None, cumulative: bool = False,
                 segment_len: int = 1, highway: int = 0, n_known: int = 0,
                 **_training: Any) -> None:
        super().__init__()
        self.horizon, self.cumulative = horizon, cumulative
        add_layers(self, n_inputs, horizon, hidden_size, num_layers, dropout,
                   quantile_levels(loss, quantiles), segment_len, highway, n_known)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return forecast_all(self, x, self.horizon)
