"""Failure notices: which settings a run asked for, the message, and a JSON POST (no Prefect).

The flow's hook (flows/hooks.py) calls these with the run's raw parameters: a run whose config
does not validate still reaches the address it names.
"""

from __future__ import annotations

import contextlib
import copy
import json
import urllib.request
from typing import Any

from pydantic import ValidationError

from lstmflow.config import ConfigError, PipelineConfig, apply_overrides
from lstmflow.config.notify import NotifyConfig


def notify_settings(parameters: dict[str, Any]) -> NotifyConfig:
    """The `notify` section of a run's `config` parameter with its `overrides` applied; empty
    (send nothing) when neither says anything usable."""
    config = parameters.get("config")
    if isinstance(config, PipelineConfig):
        raw = config.model_dump(mode="json")
    else:
        raw = copy.deepcopy(config) if isinstance(config, dict) else {}
    overrides = parameters.get("overrides") or []
    with contextlib.suppress(ConfigError):  # all or none: a bad override leaves the config as is
        raw = apply_overrides(copy.deepcopy(raw), [o for o in overrides if isinstance(o, str)])
    try:
        return NotifyConfig.model_validate(raw.get("notify") or {})
    except ValidationError:
        return NotifyConfig()


def failure_payload(flow: str, flow_run: str, flow_run_id: str, state: str, message: str | None,
                    url: str | None) -> dict[str, Any]:
    """The JSON body of a notice; `text` alone reads well in a chat channel."""
    reason = " ".join((message or "no message").split())
    text = f"lstmflow: flow run '{flow_run}' of {flow} ended {state}: {reason}"
    if url:
        text += f" ({url})"
    return {"text": text, "flow": flow, "flow_run": flow_run, "flow_run_id": flow_run_id,
            "state": state, "message": message, "url": url}


def post_json(url: str, payload: dict[str, Any], timeout: float = 10.0) -> int:
    """POST `payload` as JSON; returns the HTTP status (urllib raises on an error status)."""
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "lstmflow"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # http(s) only: NotifyConfig's pattern
        return resp.status
