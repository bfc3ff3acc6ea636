"""`lstmflow validate`: ingest and run the first data-quality gate only, print the report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lstmflow.cli.common import add_common, config_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="ingest and run the data-quality gate only")
    add_common(p)
    p.add_argument("--docs", metavar="DIR", help="also build GE Data Docs (HTML) in this folder")
    p.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    """Ingest and run the first gate only, print the report; 0 passed, 1 failed, 2 refused."""
    started = time.perf_counter()
    cfg = config_from(args)
    from lstmflow.data.ingest import describe_ingest, ingest

    result = ingest(cfg.data)
    r = result.report
    print(f"{cfg.data.path}: {r['rows_read']} rows read -> {r['series']} series on a '{r['freq']}' "
          f"grid ({r['rows']} rows), fingerprint {r['fingerprint']}")
    for line in describe_ingest(r):
        print(f"  fixed: {line}")
    from expectations.ingested import validate_ingested
    from expectations.runner import describe_failure, gate_context

    docs = Path(args.docs) if args.docs else None
    ctx = gate_context(docs)
    gate = validate_ingested(result.frame, cfg, r, ctx=ctx)
    print(f"gate 'ingested': {gate['evaluated']} expectations, {len(gate['failed'])} failed, "
          f"{len(gate['warnings'])} warnings")
    for row in sorted(gate["results"], key=lambda x: (x["success"], x["severity"] != "error")):
        mark = "ok  " if row["success"] else ("FAIL" if row["severity"] == "error" else "warn")
        line = describe_failure(row) if not row["success"] else \
            f"[{row['suite']}] {row['column'] or 'table'}: {row['rule']}"
        print(f"  {mark} {line}")
    _print_profile(gate["profile"])
    if docs is not None:
        from expectations.runner import build_docs

        print(f"Data Docs: {build_docs(ctx, docs)}")
    verdict = "passed" if gate["success"] else "FAILED"
    print(f"gate {verdict} in {time.perf_counter() - started:.1f} s")
    return 0 if gate["success"] else 1


def _print_profile(profile: list[dict], limit: int = 20) -> None:
    """Per-series facts behind the gate: rows, missing share, longest gap, largest jump, last stamp."""
    print(f"  {'series':<16}{'rows':>8}{'missing':>9}{'gap':>6}{'jump':>8}  last observed")
    for p in profile[:limit]:
        jump = p.get("max_jump:target")
        jump_s = f"x{jump:.3g}" if isinstance(jump, float) else "-"
        print(f"  {str(p['series_id'])[:16]:<16}{p['rows']:>8}{p['missing_ratio:target']:>9.1%}"
              f"{p['longest_gap']:>6}{jump_s:>8}  {p['last_observed']}")
    if len(profile) > limit:
        print(f"  ... and {len(profile) - limit} more series")
