"""Config section `notify`: where a failed or crashed run is announced (the flow's hook)."""

from __future__ import annotations

from pydantic import Field

from lstmflow.config.base import _Section


class NotifyConfig(_Section):
    """Who hears about a run that failed or crashed; empty fields send nothing."""

    webhook_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="POST a JSON message here when a run fails or crashes: {\"text\": one line "
        "a person reads, \"flow\", \"flow_run\", \"flow_run_id\", \"state\", \"message\", \"url\"}. "
        "A Slack or Mattermost incoming-webhook URL reads `text`. Empty: no webhook.",
    )
    block: str | None = Field(
        None,
        pattern=r"^[a-z0-9-]+/[A-Za-z0-9_.-]+$",
        description="Also send it through a Prefect notification block, as 'block-type/name' "
        "(e.g. 'slack-webhook/ops-alerts'; create one under Blocks in the UI). Empty: none.",
    )
