"""Flow-state hooks: announce a failed or crashed run where its config's `notify` says; and keep
a run that fails on purpose down to its one-line reason in the log."""

from __future__ import annotations

import logging

from prefect.exceptions import FailedRun

from lstmflow.notify import failure_payload, notify_settings, post_json


def notify_failure(flow, flow_run, state) -> None:
    """on_failure / on_crashed hook: POST to `notify.webhook_url` and send through
    `notify.block`. A notice that cannot be sent is logged; it never changes the run's state."""
    settings = notify_settings(flow_run.parameters or {})
    if not (settings.webhook_url or settings.block):
        return
    from prefect.logging.loggers import flow_run_logger
    from prefect.settings import PREFECT_UI_URL

    log = flow_run_logger(flow_run, flow)  # shown in the run's log in the UI
    ui = PREFECT_UI_URL.value()
    payload = failure_payload(flow.name, flow_run.name, str(flow_run.id), state.name,
                              state.message, f"{ui}/runs/flow-run/{flow_run.id}" if ui else None)
    if settings.webhook_url:
        try:
            post_json(settings.webhook_url, payload)
        except Exception as exc:  # a broken webhook must not mask why the run failed
            log.error("lstmflow: could not notify %s: %s", settings.webhook_url, exc)
    if settings.block:
        try:
            from prefect.blocks.core import Block

            Block.load(settings.block).notify(payload["text"], subject="lstmflow run failed")
        except Exception as exc:
            log.error("lstmflow: could not notify block '%s': %s", settings.block, exc)


class QuietFailedRun(logging.Filter):
    """Drops the traceback Prefect 3.8.8 logs after a deployed run that *returned* Failed
    ('Engine execution exited with unexpected exception' + FailedRun): the run's one-line
    reason is already its state message and an ERROR line. Real crashes still log theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, FailedRun)
                    and str(record.msg).startswith("Engine execution exited"))


_flow_runs_log = logging.getLogger("prefect.flow_runs")
if not any(isinstance(f, QuietFailedRun) for f in _flow_runs_log.filters):
    _flow_runs_log.addFilter(QuietFailedRun())
