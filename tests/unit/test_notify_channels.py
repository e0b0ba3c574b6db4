"""notify's delivery channels: real HTTP posts to a local test server (taken, refused,
too slow, away), the development file channel, and the deployment's configuration."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.notify.channels import DeliveryFailed, FileChannel, HttpChannel, build_channels

MESSAGE = {"notification_id": "n1", "to": "13800138000", "title": "申请已提交", "text": "您好"}


class Gateway(BaseHTTPRequestHandler):
    """Answers with the status the test sets; `hold` makes it answer too late."""

    status = 200
    hold = None
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, dict(self.headers), json.loads(body)))
        if self.hold is not None:
            self.hold.wait(5)
        self.send_response(self.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    handler = type("TestGateway", (Gateway,), {"received": [], "status": 200, "hold": None})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler, f"http://127.0.0.1:{server.server_address[1]}/sms"
    if handler.hold is not None:
        handler.hold.set()
    server.shutdown()
    server.server_close()


def test_a_message_is_posted_as_json_with_its_idempotency_key(gateway):
    _, handler, url = gateway
    HttpChannel("sms", url, timeout=2).send(MESSAGE)
    ((path, headers, body),) = handler.received
    assert path == "/sms" and body == MESSAGE
    assert headers["Idempotency-Key"] == "n1"
    assert headers["Content-Type"] == "application/json"


def test_a_refusal_is_a_failed_delivery_naming_the_status(gateway):
    _, handler, url = gateway
    handler.status = 503
    with pytest.raises(DeliveryFailed, match="503"):
        HttpChannel("sms", url, timeout=2).send(MESSAGE)


def test_a_gateway_that_does_not_answer_in_time_is_a_failed_delivery(gateway):
    _, handler, url = gateway
    handler.hold = threading.Event()
    with pytest.raises(DeliveryFailed, match="Timeout"):
        HttpChannel("sms", url, timeout=0.2).send(MESSAGE)


def test_a_gateway_that_is_away_is_a_failed_delivery_and_transient(gateway):
    server, _, url = gateway
    server.shutdown()
    server.server_close()
    with pytest.raises(DeliveryFailed) as raised:
        HttpChannel("sms", url, timeout=1).send(MESSAGE)
    assert isinstance(raised.value, ConnectionError)  # the consumer retries it later


def test_the_file_channel_appends_one_json_line_per_message(tmp_path):
    channel = FileChannel(tmp_path / "out" / "notifications.jsonl")
    channel.send(MESSAGE)
    channel.send(dict(MESSAGE, notification_id="n2"))
    lines = (tmp_path / "out" / "notifications.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["notification_id"] for line in lines] == ["n1", "n2"]
    assert "申请已提交" in lines[0]  # written as text, not \\u escapes


def test_the_deployment_offers_the_channels_it_names_with_their_settings(tmp_path):
    channels = build_channels(
        {
            "NOTIFY_CHANNELS": "sms, file",
            "NOTIFY_SMS_URL": "http://sms.example/send",
            "NOTIFY_HTTP_TIMEOUT_SECONDS": "3",
            "DATA_DIR": str(tmp_path),
        }
    )
    assert list(channels) == ["sms", "file"]
    assert channels["sms"].url == "http://sms.example/send" and channels["sms"].timeout == 3
    assert channels["file"].path == tmp_path / "notifications.jsonl"
    assert list(build_channels({"NOTIFY_CHANNELS": ""})) == []
    assert list(build_channels({})) == []  # the inbox alone, unless a deployment says


def test_an_offered_channel_without_its_setting_or_an_unknown_one_fails_at_start():
    with pytest.raises(ValueError, match="NOTIFY_EMAIL_URL"):
        build_channels({"NOTIFY_CHANNELS": "email"})
    with pytest.raises(ValueError, match="fax"):
        build_channels({"NOTIFY_CHANNELS": "fax"})
