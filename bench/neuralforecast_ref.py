"""Reference: a default neuralforecast LSTM on a bench series, its wall time and rel MAE.

Runs in its OWN virtual environment, never the project's (neuralforecast pins its own stack):

    python -m venv /tmp/nfvenv && /tmp/nfvenv/bin/pip install torch==2.13.0
    echo torch==2.13.0 > /tmp/c.txt && /tmp/nfvenv/bin/pip install -c /tmp/c.txt neuralforecast
    OMP_NUM_THREADS=1 /tmp/nfvenv/bin/python bench/neuralforecast_ref.py CONFIG.yaml

CONFIG.yaml is the config `lstmflow init` wrote for the series (bench/accuracy.py --keep writes
them): the same horizon, test size and season. The series is put on its grid and forward-filled
(neuralforecast needs no gaps); the model is `LSTM(h=horizon)` with every other argument at its
default, fit once on everything before the test part and asked for every test origin
(`cross_validation(test_size=..., step_size=1, refit=False)`); points whose actual value was
missing in the file are not scored.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import yaml


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    args = p.parse_args()
    with open(args.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    d, h = cfg["data"], cfg["forecast"]["horizon"]
    test, season = cfg["evaluation"]["test_size"], cfg["evaluation"]["season"]
    raw = pd.read_csv(d["path"])
    ts = pd.to_datetime(raw[d["timestamp_column"]], format=d.get("timestamp_format") or "ISO8601")
    y = pd.Series(raw[d["target_column"]].to_numpy(float), index=ts)
    y = y[~y.index.duplicated()].asfreq(d["freq"])
    observed = y.notna().to_numpy()
    df = pd.DataFrame({"unique_id": "s", "ds": y.index, "y": y.ffill().to_numpy()})

    import torch
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    torch.set_num_threads(1)
    start = time.perf_counter()
    nf = NeuralForecast(models=[LSTM(h=h, enable_progress_bar=False, logger=False)], freq=d["freq"])
    cv = nf.cross_validation(df, test_size=test, step_size=1, n_windows=None, refit=False)
    seconds = time.perf_counter() - start
    pos = {t: i for i, t in enumerate(y.index)}
    level = y.ffill().to_numpy()
    rows = cv["ds"].map(pos).to_numpy()
    origin = cv["cutoff"].map(pos).to_numpy()
    step = rows - origin  # 1..h
    back = season * np.ceil(step / season).astype(int)
    snaive = level[rows - back]
    ok = observed[rows]
    actual = y.to_numpy()[rows]
    mae = np.abs(cv["LSTM"].to_numpy() - actual)[ok].mean()
    ref = np.abs(snaive - actual)[ok].mean()
    print(f"{cfg['name']}: neuralforecast LSTM(h={h}) defaults: {seconds:.1f} s, rel MAE "
          f"{mae / ref:.3f} (MAE {mae:.4g}, seasonal naive {ref:.4g}, {int(ok.sum())} points)")


if __name__ == "__main__":
    main()
