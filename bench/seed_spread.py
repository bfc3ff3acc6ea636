"""How far apart two fits of one config land when only the seed differs: the noise floor that
`registry.min_improvement` must sit above, so a challenger is not promoted for noise.

    .venv/bin/python bench/seed_spread.py [--series co2,stocks,...] [--seeds 5] [--set k=v ...]

For each real series (the bundled stocks and weekly CO2, and the research series of
bench/diagnosis_cases.py when $LSTMFLOW_RESEARCH_DATA holds them), the project's config for it
is fitted once per seed with the training budget a run chooses (plain functions, no Prefect; the
data preparation does not depend on the seed; `--set` adds overrides to every fit) and scored on
the test points. For every ordered pair of seeds (challenger, champion) it
computes the promotion rule's ratio: the geometric mean over series of MAE_challenger /
MAE_champion. Printed: each seed's test MAE relative to naive, the spread of the ratios, and the
share of pairs a margin would still promote (pure noise: both fits are equally good).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(1)

from bench.diagnosis_cases import prepared, series_configs  # noqa: E402
from lstmflow.config import apply_overrides, build_config, load_config  # noqa: E402
from lstmflow.core import Forecaster  # noqa: E402
from lstmflow.fit.scores import relative_mae  # noqa: E402

MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1)


def fits(series: str, seeds: int, extra: list[str], out: Path) -> list[dict]:
    """Per seed: per-series metrics of one fit of the series' config."""
    path, sets, tail = series_configs()[series]
    base = load_config(ROOT / path, [*sets, *extra, f"output_dir={out}"])
    if not Path(base.data.path).is_absolute():
        base = build_config(apply_overrides(base.model_dump(mode="json"),
                                            [f"data.path={ROOT / base.data.path}"]))
    prep, _ = prepared(base, tail, None)
    results = []
    for seed in range(seeds):
        cfg = build_config(apply_overrides(base.model_dump(mode="json"),
                                           [f"training.seed={seed}"]))
        start = time.perf_counter()
        attempt = Forecaster(cfg).run(prep)
        per = attempt.metrics["per_series"]
        results.append({"seed": seed, "per_series": per, "seconds": time.perf_counter() - start,
                        "rel_naive": relative_mae(per, "model", "naive")})
        print(f"  {series} seed {seed}: model/naive {results[-1]['rel_naive']:.4f} "
              f"({results[-1]['seconds']:.0f} s, {len(attempt.history)} validation checks)", flush=True)
    return results


def pair_ratios(results: list[dict]) -> np.ndarray:
    """The promotion rule's ratio for every ordered pair (challenger, champion) of seeds."""
    out = []
    for a, b in itertools.permutations(results, 2):
        both = {s: {"new": a["per_series"][s]["model"], "champion": b["per_series"][s]["model"]}
                for s in a["per_series"] if s in b["per_series"]}
        r = relative_mae(both, "new", "champion")
        if r is not None:
            out.append(r)
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", default=",".join(series_configs()))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--set", dest="sets", action="append", default=[],
                    help="a config override for every fit, as in lstmflow train --set")
    args = ap.parse_args()
    rows, pooled = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for series in args.series.split(","):
            results = fits(series, args.seeds, args.sets, Path(tmp))
            r = pair_ratios(results)
            pooled.append(r)
            rel = [x["rel_naive"] for x in results]
            rows.append((series, min(rel), max(rel), np.median(np.abs(np.log(r))),
                         np.quantile(np.abs(np.log(r)), 0.9), np.abs(np.log(r)).max(),
                         [float(np.mean(r <= 1 - m)) for m in MARGINS]))
    pooled_r = np.concatenate(pooled)
    head = " | ".join(f"promoted at {m:.1%}" for m in MARGINS)
    print(f"\n| series | model/naive over seeds | median |log ratio| | p90 | max | {head} |")
    print("|---|---|---:|---:|---:|" + "---:|" * len(MARGINS))
    for name, lo, hi, med, p90, top, shares in rows:
        print(f"| {name} | {lo:.4f}-{hi:.4f} | {med:.4f} | {p90:.4f} | {top:.4f} | "
              + " | ".join(f"{s:.0%}" for s in shares) + " |")
    a = np.abs(np.log(pooled_r))
    print(f"| all ({len(pooled_r)} pairs) | | {np.median(a):.4f} | {np.quantile(a, 0.9):.4f} | "
          f"{a.max():.4f} | " + " | ".join(f"{np.mean(pooled_r <= 1 - m):.0%}" for m in MARGINS)
          + " |")


if __name__ == "__main__":
    main()
