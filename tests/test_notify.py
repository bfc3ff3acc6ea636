"""Failure notices: the flow's hook POSTs to a real HTTP server on 127.0.0.1 when a run fails,
and a rule spanning fields fails the run at its start with one line."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lstmflow.config import PipelineConfig
from lstmflow.notify import failure_payload, notify_settings
from tests.conftest import small_config_dict


@pytest.fixture
def webhook():
    """A tiny HTTP server that records every JSON body POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_failed_run_posts_a_notice(prefect_harness, sample_slice, tmp_path, webhook):
    from flows.training import train_flow

    url, received = webhook
    raw = small_config_dict(sample_slice, tmp_path / "out", notify={"webhook_url": url})
    raw["data"]["path"] = str(tmp_path / "missing.csv")
    state = train_flow(config=raw, run_id="notified", return_state=True)
    assert state.is_failed()
    assert len(received) == 1 and received[0]["path"] == "/hook"
    notice = received[0]["json"]
    assert notice["state"] == "Failed" and notice["flow"] == "lstmflow-train"
    assert "missing.csv' does not exist" in notice["message"]
    assert notice["text"].startswith(f"lstmflow: flow run '{notice['flow_run']}' of lstmflow-train "
                                     "ended Failed: ")


def test_completed_or_unconfigured_runs_send_nothing(prefect_harness, sample_slice, tmp_path,
                                                     webhook):
    from flows.training import train_flow

    url, received = webhook
    raw = small_config_dict(sample_slice, tmp_path / "out")
    raw["data"]["path"] = str(tmp_path / "missing.csv")
    assert train_flow(config=raw, return_state=True).is_failed()  # no notify section
    assert received == []


def test_cross_field_rule_fails_at_the_start_in_one_line(prefect_harness, sample_slice, tmp_path,
                                                        webhook):
    from flows.training import train_flow

    url, received = webhook
    raw = small_config_dict(sample_slice, tmp_path / "out", notify={"webhook_url": url})
    state = train_flow(config=raw, overrides=["features.macd_spans=[26, 12, 9]"],
                       return_state=True)
    assert state.is_failed()
    assert state.message == ("config key 'features': Value error, features.macd_spans must be "
                             "[fast, slow, signal] with fast < slow")
    assert not (tmp_path / "out").exists()  # refused before anything was written
    assert received[0]["json"]["message"] == state.message  # the notice still finds its address


def test_notice_settings_survive_a_config_that_does_not_validate():
    raw = {"data": {"path": "a"}, "notify": {"webhook_url": "http://127.0.0.1:9/x"}}
    assert notify_settings({"config": raw}).webhook_url == "http://127.0.0.1:9/x"
    over = notify_settings({"config": raw, "overrides": ["notify.block=slack-webhook/ops", "bad"]})
    assert over.webhook_url == "http://127.0.0.1:9/x" and over.block is None  # bad override: as-is
    over = notify_settings({"config": raw, "overrides": ["notify.block=slack-webhook/ops"]})
    assert over.block == "slack-webhook/ops"
    assert notify_settings({"config": {"notify": {"webhook_url": "ftp://x"}}}).webhook_url is None
    cfg = PipelineConfig.model_validate({"data": {"path": "a", "timestamp_column": "t"},
                                         "notify": {"block": "slack-webhook/ops"}})
    assert notify_settings({"config": cfg}).block == "slack-webhook/ops"
    assert notify_settings({}).webhook_url is None


def test_payload_text_is_one_line():
    p = failure_payload("f", "brave-fox", "id", "Crashed", "line one\n  line two", "http://ui/x")
    assert p["text"] == "lstmflow: flow run 'brave-fox' of f ended Crashed: line one line two " \
        "(http://ui/x)"
    assert p["message"] == "line one\n  line two"


def test_only_the_failed_run_echo_is_dropped_from_the_flow_run_log():
    import logging

    from prefect.exceptions import FailedRun

    from flows.hooks import QuietFailedRun

    def record(msg: str, exc: BaseException) -> logging.LogRecord:
        return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, msg, None,
                                 (type(exc), exc, None))

    quiet = QuietFailedRun()
    assert not quiet.filter(record("Engine execution exited with unexpected exception",
                                   FailedRun("config key 'x': bad")))
    assert quiet.filter(record("Engine execution exited with unexpected exception",
                               RuntimeError("a real crash")))
    assert quiet.filter(record("something else", FailedRun("x")))
    assert any(isinstance(f, QuietFailedRun) for f in logging.getLogger("prefect.flow_runs").filters)
