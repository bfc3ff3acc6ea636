"""`lstmflow train`: run the training flow on Prefect's embedded API (no server needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lstmflow.cli.common import add_common, config_from, fail, finish
from lstmflow.cli.server import HEAVY, preload, start_api_server
from lstmflow.config import PipelineConfig, load_config
from lstmflow.runs import run_folder


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="run the training flow")
    add_common(p, config_required=False)
    p.add_argument("--summary-out", help="also write summary.json here")
    p.add_argument(
        "--resume", metavar="RUN_ID",
        help="continue a killed run from <output_dir>/runs/RUN_ID/checkpoints/last.ckpt, "
        "with the run's saved config and data snapshot (--set still applies on top; "
        "--config only says where outputs live)",
    )
    p.add_argument("--force", action="store_true",
                   help="train even when the data and the effective config equal the champion's "
                   "(registry.skip_unchanged would end the run early)")
    p.set_defaults(func=cmd_train)


def _resume_target(args: argparse.Namespace) -> tuple[PipelineConfig, str, Path]:
    """The killed run's saved config, id and folder; --config only says where outputs live."""
    from lstmflow.locks import check_not_running
    from lstmflow.runs import resume_config

    output_dir = load_config(args.config).output_dir if args.config else "outputs"
    run_dir = run_folder(output_dir, args.resume)
    check_not_running(output_dir, args.resume)  # a run still alive is not resumed
    return resume_config(run_dir, args.set), args.resume, run_dir


def cmd_train(args: argparse.Namespace) -> int:
    if args.resume:
        from lstmflow.locks import LockBusy
        from lstmflow.runs import TrainingError

        try:
            cfg, run_id, run_dir = _resume_target(args)
        except (TrainingError, LockBusy) as exc:
            return fail(str(exc), 2)
    elif not args.config:
        return fail("train needs --config (or --resume RUN_ID)", 2)
    else:
        cfg = config_from(args)
    from lstmflow.data.read import check_path

    check_path(cfg.data.path)  # fail fast, before the API server starts
    api_ready = start_api_server()  # boots while the flow's modules import
    from flows.common import new_run_id
    from flows.training import train_flow
    from lstmflow.report.summary import render_text

    if not args.resume:
        run_id = new_run_id()
        run_dir = run_folder(cfg.output_dir, run_id)
    verb = "resuming run" if args.resume else "run"
    print(f"lstmflow: {verb} {run_id} -> {run_dir}", file=sys.stderr)
    preload(HEAVY)  # while the server boots: the gates' and the fit's imports
    api_ready()
    state = train_flow(cfg, run_id=run_id, resume=bool(args.resume), force=args.force,
                       return_state=True)
    return finish(args, state, run_dir / "summary.json", render_text, "training")
