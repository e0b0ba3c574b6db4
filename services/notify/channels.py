"""The delivery channels behind one interface: `send(message)` delivers a notification or
raises DeliveryFailed (transient: the message is retried later, then dead-lettered).

- sms, push, email: an HTTP POST of the message as JSON to the deployment's gateway
  (NOTIFY_SMS_URL, NOTIFY_PUSH_URL, NOTIFY_EMAIL_URL), with a timeout
  (NOTIFY_HTTP_TIMEOUT_SECONDS) and the notification id as `Idempotency-Key`, so a gateway
  that took a message whose answer was lost can drop the resend;
- file (development): one JSON line per message appended to NOTIFY_FILE.

Which channels a deployment offers: NOTIFY_CHANNELS (comma-separated; default none, the
inbox alone: a container does not fill its /tmp unasked; `make run` sets `file`).
"""

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

import requests
from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)

HTTP_CHANNELS = {"sms": "NOTIFY_SMS_URL", "push": "NOTIFY_PUSH_URL", "email": "NOTIFY_EMAIL_URL"}
DEFAULT_TIMEOUT_SECONDS = 5.0


class DeliveryFailed(ConnectionError):
    """The channel did not take the message (gateway away, refused, timed out)."""


class HttpChannel:
    def __init__(self, name, url, timeout=DEFAULT_TIMEOUT_SECONDS, session=None):
        self.name = name
        self.url = url
        self.timeout = timeout
        self.session = session or requests.Session()

    def send(self, message):
        try:
            response = self.session.post(
                self.url,
                json=message,
                timeout=self.timeout,
                headers={"Idempotency-Key": message["notification_id"]},
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{self.name} gateway: {type(exc).__name__}: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(
                f"{self.name} gateway answered {response.status_code}: {response.text[:200]}"
            )


class FileChannel:
    name = "file"

    def __init__(self, path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message):
        line = json.dumps(message, ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as out:
                out.write(line)
        except OSError as exc:
            raise DeliveryFailed(f"file channel: {exc}") from None


def notification_file(environ):
    """NOTIFY_FILE, else notifications.jsonl in DATA_DIR (the local runner's), else in the
    temporary folder (a container's /tmp: writable under a read-only root)."""
    if environ.get("NOTIFY_FILE"):
        return environ["NOTIFY_FILE"]
    folder = environ.get("DATA_DIR") or tempfile.gettempdir()
    return str(Path(folder) / "notifications.jsonl")


def offered_channels(value):
    names = [c.strip() for c in (value or "").split(",") if c.strip()]
    unknown = [c for c in names if c not in (*HTTP_CHANNELS, "file")]
    if unknown:
        raise ValueError(f"NOTIFY_CHANNELS names unknown channels {unknown}")
    return names


def build_channels(environ):
    """name -> channel for what the environment offers; ValueError when an offered
    channel lacks its setting (a deployment fails at start, not at the first message)."""
    names = offered_channels(environ.get("NOTIFY_CHANNELS", ""))
    timeout = float(environ.get("NOTIFY_HTTP_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    channels = {}
    for name in names:
        if name == "file":
            channels[name] = FileChannel(notification_file(environ))
        else:
            url = environ.get(HTTP_CHANNELS[name])
            if not url:
                raise ValueError(f"channel {name} is offered but {HTTP_CHANNELS[name]} is not set")
            channels[name] = HttpChannel(name, url, timeout)
    return channels


class Channels(DependencyProvider):
    """The deployment's channels, built from the environment in setup()."""

    def setup(self):
        self.channels = build_channels(os.environ)
        log.info("notification channels offered: %s", ", ".join(self.channels) or "none")

    def get_dependency(self, worker_ctx):
        return self

    @property
    def offered(self):
        return list(self.channels)

    def send(self, channel, message):
        """True once delivered; False when this deployment no longer offers the channel
        (nothing to retry). DeliveryFailed when the channel did not take it."""
        if channel not in self.channels:
            return False
        self.channels[channel].send(message)
        return True
