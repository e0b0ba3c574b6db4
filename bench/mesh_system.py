"""The mesh as `make run` deploys it locally, driven over HTTP, decisions seen as events.

The mesh is started by tests/support/mesh.py (the runner, isolated: its own virtual host,
ports, store and database prefix) with the benchmark's catalog (CATALOG_DATA_DIR).
Applications are submitted through the gateway (POST /api/applications); decisions are
read from routing's `application_decided` events on a queue of the benchmark's own
(exchange routing.events), never by polling. MONGO_URI, when set, is used instead of the
embedded store, so a real MongoDB is measured the same way.
"""

import collections
import json
import re
import secrets
import shutil
import subprocess
import threading
import time
import uuid
from datetime import datetime

import pika
import requests

from bench import procs
from onestop.client import PERSON_ID, sample_application
from ops.runner import REPLICA_PORT_STEP
from tests.support.mesh import PORT_OFFSETS, Mesh, reset_vhost

# process name in the report <- what its command line contains
PROCESS_NAMES = [
    ("gateway", "services.gateway.app"),
    ("catalog", "run_service catalog"),
    ("intake", "run_service intake"),
    ("routing", "run_service routing"),
    ("license", "run_service license"),
    ("feedback", "run_service feedback"),
    ("notify", "run_service notify"),
    ("departments-nameko", "run_service departments-nameko"),
    ("departments-pika", "departments.reference.pika_department"),
    ("web", "services.web.app"),
    ("broker-exporter", "ops.broker_exporter"),
    ("store", "nx-27017"),
    ("runner", "ops.runner"),
]
SERVICES_WITH_METRICS = (
    "catalog",
    "intake",
    "routing",
    "license",
    "feedback",
    "notify",
    "departments-nameko",
    "departments-pika",
)


def process_name(command):
    if command.startswith("/bin/sh") or command.startswith("sh "):
        return None
    for name, pattern in PROCESS_NAMES:
        if pattern in command:
            return name
    return None


class DecisionListener(threading.Thread):
    """Consumes routing's application_decided events on an exclusive queue of its own."""

    def __init__(self, amqp_uri):
        super().__init__(daemon=True)
        self.amqp_uri = amqp_uri
        self.tracker = None
        self.ready = threading.Event()
        self.stopping = False
        self.seen = 0
        # seconds from routing's decided_at to the event's arrival (bounded: the last ones)
        self.stamp_lag = collections.deque(maxlen=5000)

    def run(self):
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_uri))
        channel = connection.channel()
        channel.exchange_declare("routing.events", exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, "routing.events", routing_key="application_decided")
        channel.basic_consume(queue, self._on_message, auto_ack=True)
        self.ready.set()
        while not self.stopping:
            connection.process_data_events(time_limit=0.5)
        connection.close()

    def _on_message(self, channel, method, properties, body):
        # the decision's time is when it reached us, not routing's `decided_at`: routing
        # stamps that with the clock of the step that decided, before the compare-and-set
        # write of the workflow and before the outbox publishes the event, so it would not
        # count the write; the event is published only after the write (docs/adr/0003)
        received = time.time()
        payload = json.loads(body)
        self.seen += 1
        stamped = datetime.fromisoformat(payload["decision"]["decided_at"]).timestamp()
        self.stamp_lag.append(received - stamped)
        if self.tracker is not None:
            decision = payload["decision"]
            self.tracker.decided_event(
                payload["application_id"],
                received,
                (decision.get("outcome"), decision.get("decided_at")),
            )


class MeshSystem:
    name = "mesh"

    def __init__(self, data_dir, catalog_dir, vhost, port_base, extra_env=None, replicas=None):
        self.vhost = vhost
        # service -> processes (ops/runner.py REPLICAS): competing consumers of its queues
        self.replicas = dict(replicas or {})
        self.amqp_uri = reset_vhost(vhost)
        self.auth_key = secrets.token_hex(32)
        env = {
            "CATALOG_DATA_DIR": str(catalog_dir),
            "AUTH_SIGNING_KEY": self.auth_key,
            "REPLICAS": ",".join(f"{name}={n}" for name, n in self.replicas.items()),
            **(extra_env or {}),
        }
        self.mesh = Mesh(data_dir, self.amqp_uri, port_base=port_base, extra_env=env)
        self.listener = None
        self.bodies = {}
        self.headers = {}
        self.local = threading.local()

    # -- lifecycle ---------------------------------------------------------------
    def start(self):
        self.mesh.start(timeout=180)
        self.listener = DecisionListener(self.amqp_uri)
        self.listener.start()
        if not self.listener.ready.wait(30):
            raise RuntimeError("the decision listener did not start")
        return self

    def stop(self):
        if self.listener is not None:
            self.listener.stopping = True
            self.listener.join(5)
        self.mesh.stop()

    def prepare(self, ks):
        """The sample application body of each scenario (one upload shared by all), and the
        applicant's bearer token (the API's auth, onestop/common/auth.py)."""
        from onestop.common import auth

        token = auth.mint("applicant", PERSON_ID, key=self.auth_key)  # 8 h, the longest
        self.headers = {"Authorization": f"Bearer {token}"}
        session = requests.Session()
        session.headers.update(self.headers)
        client = self.mesh.client(session=session)
        file_id = client.upload()
        for k in ks:
            scenario = client.scenario(f"bench_k{k}")
            self.bodies[k] = sample_application(scenario, file_id)

    # -- driving -----------------------------------------------------------------
    def listen(self, tracker):
        self.listener.tracker = tracker

    def submit(self, k):
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
            session.headers.update(self.headers)
        response = session.post(
            f"{self.mesh.base}/api/applications",
            json=self.bodies[k],
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=60,
        )
        if response.status_code != 202:
            raise RuntimeError(f"submit: {response.status_code} {response.text[:200]}")
        return response.json()["id"]

    # -- observing ---------------------------------------------------------------
    def processes(self):
        """name -> pid of every process of the mesh (the store included)."""
        found = {}
        for pid in procs.descendants(self.mesh.process.pid) + [self.mesh.process.pid]:
            name = process_name(procs.cmdline(pid))
            if name in self.replicas:  # each replica its own row: routing, routing #2
                number = 2
                while name in found:
                    name = f"{name.split(' #')[0]} #{number}"
                    number += 1
            if name:
                found[name] = pid
        return found

    def metrics(self):
        """Counters of every service, summed by series: {name: {labels: value}}."""
        scraped = {}
        for name in SERVICES_WITH_METRICS:
            port = self.mesh.port_base + PORT_OFFSETS[name]
            for number in range(1, self.replicas.get(name, 1) + 1):
                replica_port = port + REPLICA_PORT_STEP * (number - 1)
                try:
                    text = requests.get(f"http://127.0.0.1:{replica_port}/metrics", timeout=10).text
                except requests.RequestException:
                    continue
                for series, value in parse_metrics(text).items():
                    summed = scraped.setdefault(name, {})
                    summed[series] = summed.get(series, 0) + value
        return scraped


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eEinfNa]+)")


def parse_metrics(text):
    """Prometheus text -> {(name, labels): value} for counters, sums and counts."""
    series = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if match:
            name, labels, value = match.groups()
            if name.endswith(("_total", "_count", "_sum")):
                series[(name, labels or "")] = float(value)
    return series


def queued_messages(vhost):
    """Messages ready or unacknowledged in the virtual host's queues (rabbitmqctl)."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    listed = subprocess.run(
        [ctl, "list_queues", "-p", vhost, "-q", "name", "messages"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    total = 0
    for line in listed.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            total += int(parts[1])
    return total


def wait_quiet(system, seconds=2.0, timeout=120):
    """Until the previous phase is over: no decision for `seconds` and every queue of the
    mesh's virtual host empty (snapshots to intake, events to feedback and license)."""
    deadline = time.monotonic() + timeout
    last, last_change = system.listener.seen, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        if system.listener.seen != last:
            last, last_change = system.listener.seen, time.monotonic()
        elif time.monotonic() - last_change >= seconds:
            break
    while time.monotonic() < deadline and queued_messages(system.vhost):
        time.sleep(1)
