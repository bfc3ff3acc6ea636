"""Keep a gate's result in the run folder: a CSV table and GE Data Docs HTML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from expectations.runner import build_docs, gate_context, gate_message, gate_table
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


def run_gate(name: str, run_dir: Path, validate: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Validate in a GE context whose Data Docs go to `run_dir`, keep the report there; returns
    the gate result with the paths of its files."""
    ctx = gate_context(docs_dir(run_dir, name))
    gate = validate(ctx)
    gate["files"] = save_gate_report(name, gate, ctx, run_dir)
    return gate


def ingested_gate(frame: pd.DataFrame, cfg, report: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Gate 1 outside a flow (`lstmflow predict` with no Prefect API): the result with its report
    in `run_dir`, or DataError listing each failed expectation."""
    from expectations.ingested import validate_ingested
    from lstmflow.data.schema import DataError

    gate = run_gate("ingested", run_dir, lambda ctx: validate_ingested(frame, cfg, report, ctx=ctx))
    if not gate["success"]:
        raise DataError(gate_message("ingested", gate))
    return gate
