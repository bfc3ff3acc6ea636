"""What a registry on object storage costs: `make run`'s training and `lstmflow predict` with
`output_dir` a local folder and with it an `s3://` URL, in one run, alternating.

The S3 endpoint is moto's server on loopback (tests/s3kit.py), so the ratio measures the store
path (listing, manifests, uploads, the mirror, the run folder's copy) over HTTP without network
latency: a real bucket adds its round trips (~20-50 ms each within a region) on top. Every
command is a fresh `lstmflow` process with the embedded Prefect API, as `make run` is.

    .venv/bin/python bench/store.py [--reps 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.accuracy import bench_env, run, work_dir  # noqa: E402
from tests.s3kit import make_bucket, s3_endpoint  # noqa: E402

LSTMFLOW = str(ROOT / ".venv" / "bin" / "lstmflow")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--keep", help="keep configs, runs and mirrors here")
    args = ap.parse_args()
    raw = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text(encoding="utf-8"))
    raw["data"]["path"] = str(ROOT / raw["data"]["path"])
    # every training registers and is champion (predict needs one), none is skipped
    raw["registry"] = {**(raw.get("registry") or {}), "skip_unchanged": False, "promote": "always"}
    times: dict[str, list[float]] = {k: [] for k in ("train local", "train s3", "predict local",
                                                     "predict s3")}
    with work_dir(args.keep) as work, s3_endpoint() as s3:
        make_bucket(s3, "bench")
        configs = {}
        for where, out in (("local", str(work / "outputs")), ("s3", "s3://bench/team")):
            path = work / f"{where}.yaml"
            path.write_text(yaml.safe_dump({**raw, "output_dir": out}), encoding="utf-8")
            configs[where] = path
        env = bench_env(threads=2, LSTMFLOW_CACHE_DIR=str(work / "cache"), PYTHONPATH=str(ROOT),
                        **s3)  # this checkout, not the editable install
        for rep in range(args.reps):
            for where in ("local", "s3") if rep % 2 == 0 else ("s3", "local"):
                for cmd in ("train", "predict"):
                    seconds, _ = run([LSTMFLOW, cmd, "--config", str(configs[where])], env)
                    times[f"{cmd} {where}"].append(seconds)
                    print(f"rep {rep} {cmd:<8}{where:<6}{seconds:7.1f} s", flush=True)
    print("\nmedian wall time of the whole command (s), s3 over local:")
    for cmd in ("train", "predict"):
        local, s3 = statistics.median(times[f"{cmd} local"]), statistics.median(times[f"{cmd} s3"])
        print(f"  {cmd:<8} local {local:6.1f}   s3 {s3:6.1f}   ratio {s3 / local:.3f}")


if __name__ == "__main__":
    main()
