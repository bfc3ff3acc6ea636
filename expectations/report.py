"""Keep a gate's result in the run folder: a CSV table and GE Data Docs HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from expectations.runner import build_docs, gate_table
from lstmflow.durable import write_text


def docs_dir(run_dir: Path, name: str) -> Path:
    """Where gate `name` puts its Data Docs site inside the run folder."""
    return run_dir / "data_docs" / name


def save_gate_report(name: str, gate: dict[str, Any], ctx, run_dir: Path) -> dict[str, str]:
    """Write `gate-<name>.csv` and build the Data Docs of `ctx`; returns both paths.

    `ctx` must be the context the gate ran in, made by `gate_context(docs_dir(run_dir, name))`.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    table = run_dir / f"gate-{name}.csv"
    frame = pd.DataFrame(gate_table(gate)).astype({"unexpected_count": "Int64"})
    write_text(table, frame.to_csv(index=False))  # whole or absent, like every file a run keeps
    index = build_docs(ctx, docs_dir(run_dir, name))
    return {"table": str(table), "data_docs": str(index)}
