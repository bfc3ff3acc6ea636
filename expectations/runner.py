"""Run a GE suite on an in-memory DataFrame and return a plain, JSON-safe gate result.

Severity lives in each expectation's `meta["severity"]` ("error" or "warning"): GE fails the
whole suite on any failure, so the gate decides itself which failures stop the run. An
expectation that *errors* (raises inside GE) is reported as an error of the gate, not as bad data.
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd

_counter = itertools.count()


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


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


def run_suite(name: str, df: pd.DataFrame, expectations: list) -> list[dict[str, Any]]:
    """Validate `df` against `expectations`; one plain dict per expectation."""
    import great_expectations as gx

    ctx = _context()
    uid = f"{name}-{next(_counter)}"
    batch = (
        ctx.data_sources.add_or_update_pandas(f"src-{uid}")
        .add_dataframe_asset(f"asset-{uid}")
        .add_batch_definition_whole_dataframe(f"batch-{uid}")
    )
    suite = ctx.suites.add(gx.ExpectationSuite(name=uid, expectations=expectations))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=uid, data=batch, suite=suite))
    result = vd.run(batch_parameters={"dataframe": df}, result_format="SUMMARY")
    rows = []
    for r in result.results:
        conf = r.expectation_config
        kw = conf.kwargs
        error = _raised(r.exception_info)
        res = r.result or {}
        rows.append(
            {
                "suite": name,
                "expectation": conf.type,
                "column": kw.get("column") or ",".join(kw.get("column_list") or []) or None,
                "rule": (conf.meta or {}).get("rule", conf.type),
                "severity": (conf.meta or {}).get("severity", "error"),
                "success": bool(r.success) and error is None,
                "error": error,
                "unexpected_count": res.get("unexpected_count"),
                "unexpected_percent": res.get("unexpected_percent"),
                "examples": [_plain(v) for v in (res.get("partial_unexpected_list") or [])[:5]],
                "observed": _plain(res.get("observed_value")),
            }
        )
    return rows


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
        parts.append(f"{row['unexpected_count']} unexpected")
    if row["examples"]:
        parts.append(f"e.g. {row['examples'][:3]}")
    elif row["observed"] is not None:
        parts.append(f"observed {row['observed']}")
    return ", ".join(parts)
