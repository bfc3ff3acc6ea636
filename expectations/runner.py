"""Run a GE suite on an in-memory DataFrame and return a plain, JSON-safe gate result.

Severity lives in each expectation's `meta["severity"]` ("error" or "warning"): GE fails the
whole suite on any failure, so the gate decides itself which failures stop the run. An
expectation that *errors* (raises inside GE) is reported as an error of the gate, not as bad data.
Other meta keys: `rule` (what a person reads), `check` (the config name of the check, for
`quality.severity`), `column` (the column as the user knows it) and `unit` (what a row is).
"""

from __future__ import annotations

import itertools
import logging
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_counter = itertools.count()
DOCS_SITE = "lstmflow"
# Render a failing expectation's examples from its column, and the row index and value of
# each unexpected row.
Locator = Callable[[str | None, list[Any], list[Any]], list[str]]


def gate_context(docs_dir: Path | None = None):
    """An ephemeral GE context; with `docs_dir`, Data Docs are built there (not in a temp dir)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # temp-dir chatter
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        ctx.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                  "base_directory": str(Path(docs_dir).resolve())},
            },
        )
    return ctx


def build_docs(ctx, docs_dir: Path) -> Path:
    """Render the context's validation results as static HTML; returns the index page.

    The bundled web fonts and tutorial animations (3.5 MB) are removed afterwards: pages fall
    back to system fonts, and a nightly run folder stays small (~150 KB).
    """
    ctx.build_data_docs(site_names=[DOCS_SITE])
    static = docs_dir / "static"
    shutil.rmtree(static / "fonts", ignore_errors=True)
    for name in ("glossary_scroller.gif", "validation_failed_unexpected_values.gif",
                 "iterative-dev-loop.png"):
        (static / "images" / name).unlink(missing_ok=True)
    return docs_dir / "index.html"


def _raised(info: Any) -> str | None:
    """The exception message if GE raised while computing the expectation, else None."""
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    if isinstance(info, dict):
        for v in info.values():
            msg = _raised(v)
            if msg:
                return msg
    return None


def run_suite(
    name: str, df: pd.DataFrame, expectations: list, ctx=None, locate: Locator | None = None
) -> list[dict[str, Any]]:
    """Validate `df` against `expectations`; one plain dict per expectation.

    `locate` turns the row index and value of unexpected rows into readable examples (e.g.
    'AAPL @ 2020-03-02: inf'); without it the examples are the raw values.
    """
    import great_expectations as gx

    ctx = ctx if ctx is not None else gate_context()
    uid = f"{name}-{next(_counter)}"
    batch = (
        ctx.data_sources.add_or_update_pandas(f"src-{uid}")
        .add_dataframe_asset(f"asset-{uid}")
        .add_batch_definition_whole_dataframe(f"batch-{uid}")
    )
    suite = ctx.suites.add(gx.ExpectationSuite(name=uid, expectations=expectations))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=uid, data=batch, suite=suite))
    result = vd.run(batch_parameters={"dataframe": df}, result_format="SUMMARY")
    return [_row(name, r, locate) for r in result.results]


def _row(suite: str, r: Any, locate: Locator | None) -> dict[str, Any]:
    """One expectation result as a plain dict."""
    conf = r.expectation_config
    kw, meta = conf.kwargs, conf.meta or {}
    error = _raised(r.exception_info)
    res = r.result or {}
    values = list(res.get("partial_unexpected_list") or [])
    index = list(res.get("partial_unexpected_index_list") or [])
    if locate is not None and index and error is None:
        examples = locate(kw.get("column"), index[:5], values[:5])
    else:
        examples = [_plain(v) for v in values[:5]]
    return {
        "suite": suite,
        "expectation": conf.type,
        "check": meta.get("check"),
        "column": meta["column"] if "column" in meta
        else kw.get("column") or ",".join(kw.get("column_list") or []) or None,
        "rule": meta.get("rule", conf.type),
        "severity": meta.get("severity", "error"),
        "unit": meta.get("unit", "rows"),
        "success": bool(r.success) and error is None,
        "error": error,
        "unexpected_count": res.get("unexpected_count"),
        "element_count": res.get("element_count"),
        "unexpected_percent": res.get("unexpected_percent"),
        "examples": examples,
        "observed": _plain(res.get("observed_value")),
    }


def _plain(v: Any) -> Any:
    """JSON-safe version of a GE value (timestamps and numpy scalars become str/float)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, str):
        try:
            return v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    return str(v)


def gate_result(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Summarise expectation rows: the gate passes unless an error-level one failed or errored."""
    failed = [r for r in rows if not r["success"] and r["severity"] == "error"]
    warnings = [r for r in rows if not r["success"] and r["severity"] != "error"]
    return {
        "success": not failed,
        "evaluated": len(rows),
        "failed": failed,
        "warnings": warnings,
        "results": rows,
    }


def describe_failure(row: dict[str, Any]) -> str:
    """One line a person can act on: suite, column, rule, counts and examples."""
    where = f"column '{row['column']}'" if row["column"] else "table"
    if row["error"]:
        return f"[{row['suite']}] {where}: {row['rule']} could not be checked (GE error: {row['error']})"
    parts = [f"[{row['suite']}] {where}: {row['rule']} failed"]
    if row["unexpected_count"] is not None:
        total = row.get("element_count")
        of = f" of {total}" if total is not None else ""
        parts.append(f"{row['unexpected_count']}{of} {row.get('unit') or 'rows'} unexpected")
    if row["examples"]:
        parts.append(f"e.g. {', '.join(map(str, row['examples'][:3]))}")
    elif row["observed"] is not None:
        parts.append(f"observed {row['observed']}")
    return ", ".join(parts)


def gate_table(gate: dict[str, Any]) -> list[dict[str, Any]]:
    """The gate as flat rows (one per expectation) for the table artifact and the CSV."""
    return [
        {k: r.get(k) for k in ("suite", "check", "column", "rule", "severity", "success",
                               "unexpected_count")}
        | {"examples": "; ".join(map(str, r["examples"][:3])), "error": r["error"] or ""}
        for r in gate["results"]
    ]


def example_value(v: Any) -> str:
    """A value for an example: 4 significant digits, timestamps short."""
    from lstmflow.data.schema import stamp

    if isinstance(v, pd.Timestamp | datetime | np.datetime64):
        return stamp(v)
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}"
    return str(v)


def frame_locator(frame: pd.DataFrame):
    """Examples of row-level failures in a canonical-shaped frame: 'series @ timestamp: value'."""
    from lstmflow.data.schema import SERIES, TIME, stamp

    def locate(column: str | None, index: list[Any], values: list[Any]) -> list[str]:
        out = []
        for i, v in zip(index, values, strict=False):
            try:
                out.append(f"{frame.at[i, SERIES]} @ {stamp(frame.at[i, TIME])}: {example_value(v)}")
            except (KeyError, TypeError):
                out.append(example_value(v))
        return out
    return locate


def gate_message(name: str, gate: dict[str, Any]) -> str:
    """The failed gate as a list a person can act on, plus where its full report is."""
    lines = [f"data-quality gate '{name}' failed ({len(gate['failed'])} of {gate['evaluated']} "
             "expectations):"]
    lines += [f"  - {describe_failure(r)}" for r in gate["failed"]]
    docs = (gate.get("files") or {}).get("data_docs")
    if docs:
        lines.append(f"  report: {docs}")
    return "\n".join(lines)
