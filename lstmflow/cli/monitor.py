"""`lstmflow monitor`: score the forecasts `predict` served against the actuals that arrived,
and say whether the champion degraded (monitor.json, history.jsonl under
<output_dir>/monitor/<name>/). It runs flows/monitor.py (a temporary API server when no
PREFECT_API_URL is set), so the `lstmflow.champion.degraded` event reaches a real server's
triggers when one is configured."""

from __future__ import annotations

import argparse
import sys
import time

from lstmflow.cli.common import add_common, config_from, fail
from lstmflow.cli.server import HEAVY, preload, start_api_server


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="score the served forecasts as their actuals arrived")
    add_common(p)
    p.set_defaults(func=cmd_monitor)


def cmd_monitor(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    cfg = config_from(args)
    api_ready = start_api_server()
    from flows.monitor import monitor_flow

    preload(HEAVY[:1])
    api_ready()
    state = monitor_flow(cfg, return_state=True)
    if not state.is_completed():
        return fail(state.message or f"monitoring ended {state.name}")
    print(render(state.result()))
    print(f"  {time.perf_counter() - start:.1f} s in this process", file=sys.stderr)
    return 0


def render(record: dict) -> str:
    """The champion's live error beside its promotion-time error, and the verdict."""
    live = ((record.get("live") or {}).get("overall") or {}).get("model") or {}
    then = record.get("at_promotion") or {}

    def num(v):
        return "-" if v is None else f"{v:.4g}"

    lines = [f"monitor {record['name']}: champion {record.get('champion') or 'none'}, "
             f"{record['points']} served points from {record['predictions_read']} predictions",
             f"  MAE over naive's: live {num(live.get('rel_mae'))}, at promotion "
             f"{num(then.get('rel_mae'))}",
             f"  {'DEGRADED: ' + record['degraded_reason'] if record['degraded'] else 'not degraded'}"]
    lines += [f"  warning: {w}" for w in record.get("warnings") or []]
    return "\n".join(lines)
