"""Flow-state hooks: announce a failed or crashed run where its config's `notify` says."""

from __future__ import annotations

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
