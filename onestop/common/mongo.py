"""The MongoDB dependency: one client per service process, a domain-named store per worker.

Each service's store.py defines a class taking a pymongo Database; this provider
builds the client in setup() (never at import time) and hands workers that class.
"""

import logging
import time

import pymongo
from nameko.extensions import DependencyProvider
from prometheus_client import Histogram

from onestop.common import config

log = logging.getLogger(__name__)

MONGO_LATENCY = Histogram(
    "mongo_operation_duration_seconds",
    "MongoDB operation latency as seen by the driver",
    ["command"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


class _CommandTimer(pymongo.monitoring.CommandListener):
    """Measures every MongoDB command by name (bounded label: the command name)."""

    def __init__(self):
        self._started = {}

    def started(self, event):
        self._started[event.request_id] = time.perf_counter()

    def _finish(self, event):
        start = self._started.pop(event.request_id, None)
        if start is not None:
            MONGO_LATENCY.labels(event.command_name).observe(time.perf_counter() - start)

    succeeded = _finish
    failed = _finish


def connect(uri=None, **kwargs):
    """The client, every wait on the store bounded: finding a server
    (10 s), opening a connection (MONGO_CONNECT_TIMEOUT_SECONDS, 5) and each answer on an
    open one (MONGO_SOCKET_TIMEOUT_SECONDS, 15), so a hung store fails a call with an
    error instead of blocking its worker for ever."""
    timeouts = dict(
        serverSelectionTimeoutMS=10000,
        connectTimeoutMS=int(float(config.env("MONGO_CONNECT_TIMEOUT_SECONDS", 5)) * 1000),
        socketTimeoutMS=int(float(config.env("MONGO_SOCKET_TIMEOUT_SECONDS", 15)) * 1000),
    )
    return pymongo.MongoClient(
        uri or config.mongo_uri(), event_listeners=[_CommandTimer()], **{**timeouts, **kwargs}
    )


class Storage(DependencyProvider):
    provides_store = True  # what an Outbox looks for beside it (onestop/common/outbox.py)

    def __init__(self, store_class, service_name):
        self.store_class = store_class
        self.service_name = service_name
        self.client = None
        self.store = None

    def setup(self):
        self.client = connect(self.container.config.get("MONGO_URI"))
        self.store = self.store_class(self.client[config.db_name(self.service_name)])
        self.store.ensure_indexes()

    def stop(self):
        # nameko stops a container's dependencies all at once: the published outbox entries
        # still waiting in its Outbox are removed first, while the client is open
        # (otherwise they would be re-sent by the sweep after the restart)
        for dependency in self.container.dependencies:  # an Outbox or its Settlements
            if getattr(dependency, "closes_before_store", False):
                dependency.close()
        if self.client is not None:
            self.client.close()

    def get_dependency(self, worker_ctx):
        return self.store
