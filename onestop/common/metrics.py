"""Metrics as one dependency provider on the worker hooks (after Emplocity/nameko-prometheus).

Every entrypoint of a service is counted and timed without touching its code.
Business metrics are declared in each service's own module with the service's
name as prefix. Labels stay bounded: never ids, personal data or free text.
"""

import time

from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.events import EventHandler
from nameko.rpc import Rpc
from nameko.timer import Timer
from prometheus_client import Counter, Histogram, generate_latest, CONTENT_TYPE_LATEST
from werkzeug.wrappers import Response

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_families = {}


def _entrypoint_metrics(service):
    if service not in _families:
        _families[service] = (
            Counter(
                f"{service}_entrypoint_calls_total",
                "Entrypoint calls by outcome (ok, rejected: bad input, error)",
                ["entrypoint", "kind", "outcome"],
            ),
            Histogram(
                f"{service}_entrypoint_duration_seconds",
                "Entrypoint latency",
                ["entrypoint", "kind"],
                buckets=LATENCY_BUCKETS,
            ),
        )
    return _families[service]


def entrypoint_kind(entrypoint):
    for cls, kind in (
        (HttpRequestHandler, "http"),
        (Rpc, "rpc"),
        (EventHandler, "event"),
        (Timer, "timer"),
    ):
        if isinstance(entrypoint, cls):
            return kind
    return "consumer"


class Metrics(DependencyProvider):
    """Counts and times every entrypoint; `outcome` is ok or error. The metrics' prefix is
    the service's name, or `service` when several services of one process count as one."""

    def __init__(self, service=None):
        self.service = service
        self._starts = {}

    def setup(self):
        self.calls, self.latency = _entrypoint_metrics(self.service or self.container.service_name)

    def worker_setup(self, worker_ctx):
        self._starts[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        start = self._starts.pop(worker_ctx, None)
        entrypoint = worker_ctx.entrypoint
        name, kind = entrypoint.method_name, entrypoint_kind(entrypoint)
        http_failed = kind == "http" and isinstance(result, Response) and result.status_code >= 500
        if exc_info is not None:
            expected = isinstance(exc_info[1], entrypoint.expected_exceptions or ())
            outcome = "rejected" if expected else "error"
        else:
            outcome = "error" if http_failed else "ok"
        self.calls.labels(name, kind, outcome).inc()
        if start is not None:
            self.latency.labels(name, kind).observe(time.perf_counter() - start)

    def get_dependency(self, worker_ctx):
        return None


def exposition():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
