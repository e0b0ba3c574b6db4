"""Queue depth and consumers of the mesh's virtual host, for local runs.

`python -m ops.broker_exporter` serves /metrics on the broker-exporter port.
In docker-compose and Kubernetes RabbitMQ's own Prometheus plugin serves the
same series (per-object metrics), so dashboards and alerts are written once:

    rabbitmq_queue_messages_ready{vhost,queue}
    rabbitmq_queue_messages_unacked{vhost,queue}
    rabbitmq_queue_consumers{vhost,queue}

It asks the management API when RABBITMQ_MANAGEMENT_URL is set, otherwise
`rabbitmqctl list_queues` (the machine's broker). A broker it cannot read is
reported as broker_exporter_up 0; the process itself never stops for it.
"""

import json
import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import quote, unquote, urlparse

import requests
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily

from onestop.common import config

log = logging.getLogger(__name__)
CACHE_SECONDS = 5
FIELDS = (
    ("messages_ready", "rabbitmq_queue_messages_ready", "Messages ready for delivery"),
    (
        "messages_unacknowledged",
        "rabbitmq_queue_messages_unacked",
        "Messages delivered and not yet acknowledged",
    ),
    ("consumers", "rabbitmq_queue_consumers", "Consumers on the queue"),
)


def vhost_of(amqp_uri):
    path = urlparse(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def queues_from_rabbitmqctl(vhost):
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    listed = subprocess.run(
        [
            ctl,
            "list_queues",
            "-q",
            "-p",
            vhost,
            "--formatter",
            "json",
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "consumers",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    return json.loads(listed.stdout or "[]")


def queues_from_management(vhost, management_url, amqp_uri):
    parsed = urlparse(amqp_uri)
    auth = (unquote(parsed.username or "guest"), unquote(parsed.password or "guest"))
    response = requests.get(
        f"{management_url.rstrip('/')}/api/queues/{quote(vhost, safe='')}",
        params={"columns": "name,messages_ready,messages_unacknowledged,consumers"},
        auth=auth,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


class QueueCollector:
    def __init__(self, vhost, list_queues, cache_seconds=CACHE_SECONDS):
        self.vhost = vhost
        self.list_queues = list_queues
        self.cache_seconds = cache_seconds
        self._cached = None
        self._cached_at = None
        self._lock = threading.Lock()

    def _queues(self):
        with self._lock:
            if self._cached_at is None or time.monotonic() - self._cached_at >= self.cache_seconds:
                self._cached = self.list_queues(self.vhost)
                self._cached_at = time.monotonic()
            return self._cached

    def collect(self):
        up = GaugeMetricFamily(
            "broker_exporter_up", "1 when the broker's queues could be listed", labels=["vhost"]
        )
        try:
            queues = self._queues()
        except Exception as exc:  # the broker or the tool is away: say so, keep serving
            log.warning("cannot list the queues of %s: %s", self.vhost, exc)
            up.add_metric([self.vhost], 0)
            yield up
            return
        up.add_metric([self.vhost], 1)
        yield up
        for field, name, documentation in FIELDS:
            family = GaugeMetricFamily(name, documentation, labels=["vhost", "queue"])
            for queue in queues:
                family.add_metric([self.vhost, queue["name"]], queue.get(field) or 0)
            yield family


def build_registry(amqp_uri=None, management_url=None):
    amqp_uri = amqp_uri or config.amqp_uri()
    vhost = vhost_of(amqp_uri)
    management_url = management_url or config.env("RABBITMQ_MANAGEMENT_URL")
    if management_url:

        def list_queues(name):
            return queues_from_management(name, management_url, amqp_uri)
    else:
        list_queues = queues_from_rabbitmqctl
    registry = CollectorRegistry()
    registry.register(QueueCollector(vhost, list_queues))
    return registry


def main():
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format='{"time": "%(asctime)s", "level": "%(levelname)s", '
        '"service": "broker-exporter", "message": "%(message)s"}',
    )
    port = config.port_of("broker-exporter")
    start_http_server(port, addr=config.env("BIND_HOST", "127.0.0.1"), registry=build_registry())
    log.info("queue metrics of %s on :%s/metrics", vhost_of(config.amqp_uri()), port)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
