"""Training throughput: the project's path vs a plain PyTorch loop, same LSTM, data and steps.

Project path: `lstmflow.fit.train.train_model` exactly as the flow calls it (Lightning Trainer,
`WindowBatches` gathered per batch, history recorder with per-layer gradient norms, best-weight
keeper, check logger, early stopping, a checkpoint every validation check, gradient clipping,
plateau schedule, validation every `val_check_steps` steps: the step budget). Plain loop: a
hand-written torch loop over batches built before the clock starts, with the same optimiser,
clipping, schedule and validation passes. Both start from the same seeded weights and draw the
same batches in the same order.

Run: .venv/bin/python bench/train_throughput.py [--check-steps 25 --checks 2 --repeats 5]
Prints windows/s for both and their ratio (target: project <= 1.10x the plain loop's time),
and targets/s with the loss on every step vs on the last step only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lstmflow.config import PipelineConfig, build_config
from lstmflow.data.arrays import SeriesArrays
from lstmflow.data.split import Bounds


def make_arrays(n_series: int, length: int, n_feat: int, seed: int = 0) -> list[SeriesArrays]:
    """Random-walk inputs on a 90/5/5 split; the values do not matter for speed."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_series):
        x = np.cumsum(rng.normal(size=(length, n_feat)), axis=0).astype(np.float32)  # [T, F]
        x = (x - x.mean(0)) / x.std(0)
        z = np.diff(x[:, 0], prepend=x[0, 0]).astype(np.float32)  # [T]
        level = np.cumsum(z).astype(np.float64)
        b = Bounds(train_end=int(length * 0.9), val_end=int(length * 0.95), length=length)
        out.append(SeriesArrays(f"s{i}", np.arange(length).astype("datetime64[D]"), x, z,
                                level, level.copy(), b))
    return out


def bench_config(args: argparse.Namespace, every_step: bool = True) -> PipelineConfig:
    """The training config of the bench: defaults, a fixed step budget, no early stop."""
    return build_config({
        "data": {"path": "unused.csv", "timestamp_column": "t"},
        "forecast": {"horizon": args.horizon, "input_size": args.window},
        "model": {"hidden_size": args.hidden, "num_layers": args.layers},
        "training": {"max_steps": args.checks * args.check_steps,
                     "val_check_steps": args.check_steps, "batch_size": args.batch,
                     "window_stride": 1, "patience": 1000, "every_step": every_step},
    })


def run_project(arrays, cfg: PipelineConfig) -> dict:
    """train_model as the flow runs it, checkpointing into a temporary run folder."""
    from lstmflow.fit.model import build_datasets
    from lstmflow.fit.train import train_model

    with tempfile.TemporaryDirectory() as run_dir:
        res = train_model(arrays, cfg, log=lambda _: None, run_dir=Path(run_dir))
    train_ds, _ = build_datasets(arrays, cfg)
    return {"seconds": res.seconds, "loss": res.history[-1]["train_loss"],
            "steps": sum(h["batches"] for h in res.history),
            "windows": res.windows["train_per_epoch"] * len(res.history),
            "targets": targets_drawn(train_ds, cfg)}


def targets_drawn(train_ds, cfg: PipelineConfig) -> int:
    """Training targets (kept mask elements) over all checks' batches."""
    from models.data import loader

    t = cfg.training
    dl = loader(train_ds, t.batch_size, True, t.seed, steps=t.val_check_steps)
    total = 0
    for epoch in range(t.max_steps // t.val_check_steps):
        dl.sampler.set_epoch(epoch)
        total += sum(int(b[2].sum()) for b in dl)
    return total


def run_plain(arrays, cfg: PipelineConfig) -> dict:
    """A hand-written loop over pre-built batches: same init, batches, optimiser and clipping."""
    import pytorch_lightning as pl

    from lstmflow.fit.model import build_datasets, build_model
    from models.data import loader

    t = cfg.training
    pl.seed_everything(t.seed, verbose=False)
    train_ds, val_ds = build_datasets(arrays, cfg)
    model = build_model(cfg, arrays[0].x.shape[1])
    dl = loader(train_ds, t.batch_size, True, t.seed, steps=t.val_check_steps)
    epochs = []  # the batches between two validation checks (a Lightning epoch each)
    for e in range(t.max_steps // t.val_check_steps):
        dl.sampler.set_epoch(e)
        epochs.append(list(dl))  # built before the clock starts
    val = list(loader(val_ds, t.batch_size * 4, False))
    opt = torch.optim.AdamW(model.parameters(), lr=t.learning_rate, weight_decay=t.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=t.lr_factor,
                                                       patience=t.patience // 2)
    start = time.perf_counter()
    for batches in epochs:
        model.train()
        losses = []
        for batch in batches:
            opt.zero_grad(set_to_none=True)
            loss = model.masked_loss(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.gradient_clip)
            opt.step()
            losses.append(loss.detach())
        model.eval()
        with torch.no_grad():
            v = torch.stack([model.masked_loss(b) for b in val]).mean()
        sched.step(v)
    seconds = time.perf_counter() - start
    steps = sum(len(b) for b in epochs)
    return {"seconds": seconds, "loss": float(torch.stack(losses).mean()), "steps": steps,
            "windows": sum(len(b[0]) for bs in epochs for b in bs),
            "targets": sum(int(b[2].sum()) for bs in epochs for b in bs)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=4)
    p.add_argument("--length", type=int, default=2000, help="rows per series")
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--window", type=int, default=64)
    p.add_argument("--horizon", type=int, default=5)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--check-steps", type=int, default=25, help="steps between validation checks")
    p.add_argument("--checks", type=int, default=2, help="validation checks (the fit's length)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads in both paths (1: steadiest on a shared machine)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    arrays = make_arrays(args.series, args.length, args.features)
    cfg, cfg_last = bench_config(args), bench_config(args, every_step=False)
    print(f"LSTM({args.features}->{args.hidden} x{args.layers}), window {args.window}, "
          f"horizon {args.horizon}, batch {args.batch}, {args.checks} checks x "
          f"{args.check_steps} steps, {args.threads} threads")
    run_project(arrays, cfg)  # warm-up: imports, allocator, first-fit costs
    runs: dict[str, list[dict]] = {"plain": [], "project": [], "project_last_step": []}
    for _ in range(args.repeats):  # interleaved, so load from other processes hits all alike
        runs["plain"].append(run_plain(arrays, cfg))
        runs["project"].append(run_project(arrays, cfg))
        runs["project_last_step"].append(run_project(arrays, cfg_last))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    for name, r in best.items():
        secs = [round(x["seconds"], 2) for x in runs[name]]
        print(f"{name:18s} steps {r['steps']:4d}  windows/s {r['windows'] / r['seconds']:8.1f}  "
              f"targets/s {r['targets'] / r['seconds']:10.0f}  final train loss {r['loss']:.4f}  "
              f"runs {secs} s")
    pl_, pr = best["plain"], best["project"]
    assert pl_["steps"] == pr["steps"] and pl_["windows"] == pr["windows"], "not the same work"
    pairs = [a["seconds"] / b["seconds"] for a, b in zip(runs["project"], runs["plain"],
                                                             strict=True)]
    print(f"project / plain time ratio: {statistics.median(pairs):.3f}x median of "
          f"{args.repeats} back-to-back pairs {[round(r, 3) for r in pairs]}, "
          f"{pr['seconds'] / pl_['seconds']:.3f}x best vs best; target <= 1.10x")
    ls = best["project_last_step"]
    gain = (pr["targets"] / pr["seconds"]) / (ls["targets"] / ls["seconds"])
    print(f"every-step loss: {pr['targets'] / pr['windows']:.0f} targets per window vs "
          f"{ls['targets'] / ls['windows']:.1f} on the last step only: {gain:.1f}x targets/s")


if __name__ == "__main__":
    main()
