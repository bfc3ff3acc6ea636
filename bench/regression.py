"""The regression check: a change's defaults scored on the same points before and after it.

Runs one bench (`accuracy`: the series of data/bench; `domains`: the design half of
data/domains, never the held-out half) in clean worktrees of two commits, `--base` and `--head`
(default HEAD), each exactly as a user runs `lstmflow init` + `lstmflow train`, and prints per
series the model's MAE over seasonal naive's for both and their ratio. A series whose test
points differ between the two (another horizon, test size or grid chosen by init) is reported
as not comparable instead of a ratio. A loss of more than `--tolerance` (2%) on any series is
flagged and the exit code is 1, so a commit hook or a CI job can stop on it; a commit that
accepts such a loss says so in its message and in docs/benchmarks.md.

    .venv/bin/python bench/regression.py --base REV [--head REV] [--bench accuracy|domains]
        [--series NAME ...] [--tolerance 0.02] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.accuracy import bench_env  # noqa: E402

SAME_POINTS = ("freq", "horizon", "season", "points")  # what must match for a ratio to mean much


def rows_of(bench: str, data: dict | list) -> dict[str, dict]:
    """{series: row} from a bench's --json output (accuracy: {"series": [...]}, domains: [...])."""
    rows = data["series"] if isinstance(data, dict) else data
    return {r["series"]: r for r in rows if bench != "domains" or r.get("half") == "design"}


def compare(base: dict[str, dict], head: dict[str, dict], tolerance: float) -> list[dict]:
    """Per series: both rel MAEs, head/base, and a verdict ('ok', 'LOSS', 'not comparable: ...',
    'refused ...')."""
    out = []
    for name in sorted(set(base) | set(head)):
        a, b = base.get(name), head.get(name)
        row = {"series": name, "base": None, "head": None, "ratio": None}
        if a is None or b is None or "refused" in a or "refused" in b:
            which = "missing" if a is None or b is None else "refused"
            row["verdict"] = f"{which} ({'base' if a is None or 'refused' in a else 'head'})"
            out.append(row)
            continue
        row.update(base=a["rel_mae"]["lstmflow"], head=b["rel_mae"]["lstmflow"])
        differ = [k for k in SAME_POINTS if a.get(k) != b.get(k)]
        if differ:
            row["verdict"] = "not comparable: " + ", ".join(
                f"{k} {a.get(k)} -> {b.get(k)}" for k in differ)
        else:
            row["ratio"] = row["head"] / row["base"]
            row["verdict"] = "LOSS" if row["ratio"] > 1 + tolerance else "ok"
        out.append(row)
    return out


def run_bench(rev: str, bench: str, series: list[str], where: Path) -> dict | list:
    """The bench's --json output at commit `rev`, from a clean worktree using this .venv."""
    tree = where / f"tree-{rev.replace('/', '_')}"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-f", "--detach", str(tree), rev],
                   check=True, capture_output=True)
    try:
        (tree / ".venv").symlink_to(ROOT / ".venv")
        out = where / f"{tree.name}.json"
        cmd = [sys.executable, f"bench/{bench}.py", "--json", str(out)]
        cmd += ["--series", *series] if series else (["--half", "design"] if bench == "domains"
                                                     else [])
        env = bench_env(PYTHONPATH=str(tree))  # that commit's code, not the editable install
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"bench/{bench}.py at {rev} failed ({r.returncode}):\n{r.stderr[-3000:]}")
        return json.loads(out.read_text())
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="the commit before the change")
    p.add_argument("--head", default="HEAD", help="the commit with the change (default HEAD)")
    p.add_argument("--bench", choices=("accuracy", "domains"), default="accuracy")
    p.add_argument("--series", nargs="*", default=[])
    p.add_argument("--tolerance", type=float, default=0.02)
    p.add_argument("--keep", metavar="DIR", help="keep both benches' JSON here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(args.keep or tmp)
        where.mkdir(parents=True, exist_ok=True)
        base = rows_of(args.bench, run_bench(args.base, args.bench, args.series, where))
        head = rows_of(args.bench, run_bench(args.head, args.bench, args.series, where))
    rows = compare(base, head, args.tolerance)
    print(f"\n{args.bench}: rel MAE (MAE / seasonal naive's, the run's test points), "
          f"{args.base} -> {args.head}")
    for r in rows:
        nums = (f"{r['base']:.4f} -> {r['head']:.4f}  x{r['ratio']:.3f}" if r["ratio"]
                else f"{r['base'] or '-'} -> {r['head'] or '-'}")
        print(f"  {r['series']:<28}{nums:<32}{r['verdict']}")
    losses = [r["series"] for r in rows if r["verdict"] == "LOSS"]
    if losses:
        print(f"lost more than {args.tolerance:.0%} on {', '.join(losses)}: say so in the commit")
        sys.exit(1)


if __name__ == "__main__":
    main()
