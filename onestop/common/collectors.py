"""Gauges read from a service's own store when /metrics is scraped.

Counters in a process forget everything on restart; numbers such as "open
rectification cases by state" or "licences by status" are facts of the store, so
they are computed at scrape time from it (a custom prometheus_client collector).
If the store cannot answer, the scrape still succeeds and `<service>_store_scrape_up`
reads 0, so an alert can fire instead of /metrics failing.
"""

import logging

from nameko.extensions import DependencyProvider
from prometheus_client.core import GaugeMetricFamily, REGISTRY

from onestop.common import config
from onestop.common.clock import utcnow
from onestop.common.mongo import connect

log = logging.getLogger(__name__)


class _Collector:
    def __init__(self, provider):
        self.provider = provider

    def describe(self):
        return []  # no names up front: nothing is queried at registration time

    def collect(self):
        provider = self.provider
        up = GaugeMetricFamily(
            f"{provider.service_name}_store_scrape_up",
            "1 when the store-derived gauges could be read at this scrape",
        )
        try:
            families = list(provider.families(provider.store, utcnow()))
        except Exception as exc:  # the store is away: say so, never fail the scrape
            log.warning("store-derived metrics unavailable: %s: %s", type(exc).__name__, exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


class StoreGauges(DependencyProvider):
    """families(store, now) -> iterable of prometheus metric families, read at each scrape."""

    def __init__(self, store_class, service_name, families):
        self.store_class = store_class
        self.service_name = service_name
        self.families = families
        self.client = self.store = self.collector = None

    def setup(self):
        self.client = connect(self.container.config.get("MONGO_URI"))
        self.store = self.store_class(self.client[config.db_name(self.service_name)])
        self.collector = _Collector(self)
        REGISTRY.register(self.collector)

    def stop(self):
        if self.collector is not None:
            REGISTRY.unregister(self.collector)
            self.collector = None
        if self.client is not None:
            self.client.close()

    def get_dependency(self, worker_ctx):
        return None
