"""`lstmflow` command line: train and validate from a YAML config, no server needed.

Heavy imports (Prefect, Great Expectations, Lightning) happen inside the commands so that
`--help` and config errors answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

from lstmflow.config import ConfigError, PipelineConfig, load_config
from lstmflow.runs import run_folder, write_json


def _env() -> None:
    """Prefect defaults for a machine with no server and no network."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "true")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def _fail(msg: str, code: int = 1) -> int:
    width = min(100, shutil.get_terminal_size((100, 20)).columns)
    body = "\n".join(
        textwrap.fill(line, width=width, subsequent_indent="    ") if len(line) > width else line
        for line in msg.splitlines()
    )
    print(f"lstmflow: error: {body}", file=sys.stderr)
    return code


def _config(args: argparse.Namespace) -> PipelineConfig:
    return load_config(args.config, args.set)


def _resume_target(args: argparse.Namespace) -> tuple[PipelineConfig, str, Path]:
    """The killed run's saved config, id and folder; --config only says where outputs live."""
    from lstmflow.runs import resume_config

    output_dir = load_config(args.config).output_dir if args.config else "outputs"
    run_dir = run_folder(output_dir, args.resume)
    return resume_config(run_dir, args.set), args.resume, run_dir


def cmd_train(args: argparse.Namespace) -> int:
    if args.resume:
        from lstmflow.runs import TrainingError

        try:
            cfg, run_id, run_dir = _resume_target(args)
        except TrainingError as exc:
            return _fail(str(exc), 2)
    elif not args.config:
        return _fail("train needs --config (or --resume RUN_ID)", 2)
    else:
        cfg = _config(args)
    from lstmflow.data.read import check_path

    check_path(cfg.data.path)  # fail fast, before the API server starts
    from flows.training import new_run_id, train_flow
    from lstmflow.report.summary import render_text

    if not args.resume:
        run_id = new_run_id()
        run_dir = run_folder(cfg.output_dir, run_id)
    verb = "resuming run" if args.resume else "run"
    print(f"lstmflow: {verb} {run_id} -> {run_dir}", file=sys.stderr)
    state = train_flow(cfg, run_id=run_id, resume=bool(args.resume), return_state=True)
    summary_path = run_dir / "summary.json"
    if not summary_path.exists():  # refused at ingestion: the run kept nothing
        return _fail(state.message or f"the flow ended {state.name} without a summary")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if args.summary_out:
        write_json(Path(args.summary_out), summary)
    print(render_text(summary))
    if state.is_completed() and summary["status"] == "completed":
        return 0
    if args.debug and state.is_failed():
        state.result(raise_on_failure=True)
    return _fail(summary.get("reason") or state.message or "the training flow failed")


def cmd_validate(args: argparse.Namespace) -> int:
    """Ingest and run the first gate only, print the report; 0 passed, 1 failed, 2 refused."""
    started = time.perf_counter()
    cfg = _config(args)
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lstmflow", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, helptext in (("train", "run the training flow"),
                           ("validate", "ingest and run the data-quality gate only")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("--config", required=name != "train",
                       help="YAML config file (train --resume: only locates output_dir)")
        s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key (dotted path; value parsed as YAML)")
        s.add_argument("--debug", action="store_true", help="show tracebacks")
    sub.choices["train"].add_argument("--summary-out", help="also write summary.json here")
    sub.choices["validate"].add_argument("--docs", metavar="DIR",
                                         help="also build GE Data Docs (HTML) in this folder")
    sub.choices["train"].add_argument(
        "--resume", metavar="RUN_ID",
        help="continue a killed run from <output_dir>/runs/RUN_ID/checkpoints/last.ckpt, "
        "with the run's saved config and data snapshot (--set still applies on top)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _env()
    handlers = {"train": cmd_train, "validate": cmd_validate}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:
        from lstmflow.data.schema import DataError

        if args.debug:
            raise
        if isinstance(exc, ConfigError | DataError):
            return _fail(str(exc), 2)
        return _fail(f"{type(exc).__name__}: {exc} (rerun with --debug for the traceback)")


if __name__ == "__main__":
    sys.exit(main())
