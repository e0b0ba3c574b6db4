"""The catalog as the other services call it: `CatalogProxy()` in place of
`RpcProxy("catalog")`, keeping the answers so that an application does not cost a
catalog round trip per question (docs/adr/0010).

- An answer about a **pinned version** (`version` given) never changes: a catalog version
  is immutable once loaded (services/catalog/versions.py). It is kept for the life of the
  process, in a bounded least-recently-used table.
- An answer about **the current version** (`version` None) is kept `CATALOG_CACHE_SECONDS`
  (default 2; 0 turns keeping off): a version the catalog service has just loaded is used
  by new applications at most that long after it is loaded.

Every caller gets its own copy of an answer (kept as JSON, the form it crossed the wire
in), so a caller that changes what it got cannot change what the next caller gets.
Methods the table below does not name are passed through uncached.
"""

import json
import time
from collections import OrderedDict

from prometheus_client import Counter

from onestop.common.config import env
from onestop.common.rpc import TimedRpcProxy

# method -> the position of its `version` argument
VERSIONED = {
    "get_scenario": 1,
    "get_region": 1,
    "get_department": 1,
    "plan": 3,
    "get_calendar": 0,
    "get_license_types": 0,
}
MAX_ENTRIES = 4096
CATALOG_CACHE_SECONDS = 2.0  # the default keeping time of current-version answers

LOOKUPS = Counter(
    "catalog_client_lookups_total",
    "Catalog questions asked by this service, by whether a kept answer served",
    ["method", "result"],
)


class Answers:
    """The kept answers of one process (shared by its workers)."""

    def __init__(self, ttl_seconds, max_entries=MAX_ENTRIES, clock=time.monotonic):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._table = OrderedDict()  # key -> (expires_at or None, answer as JSON)

    def get(self, method, args, kwargs, ask):
        position = VERSIONED.get(method)
        if position is None:
            return ask(*args, **kwargs)
        version = (
            kwargs["version"]
            if "version" in kwargs
            else (args[position] if len(args) > position else None)
        )
        if version is None and self.ttl <= 0:
            LOOKUPS.labels(method, "asked").inc()
            return ask(*args, **kwargs)
        key = json.dumps([method, args, kwargs], sort_keys=True, default=list)
        now = self.clock()
        kept = self._table.get(key)
        if kept is not None and (kept[0] is None or kept[0] > now):
            self._table.move_to_end(key)
            LOOKUPS.labels(method, "kept").inc()
            return json.loads(kept[1])
        answer = ask(*args, **kwargs)
        LOOKUPS.labels(method, "asked").inc()
        expires = None if version is not None else self.clock() + self.ttl
        self._table[key] = (expires, json.dumps(answer))
        self._table.move_to_end(key)
        while len(self._table) > self.max_entries:
            self._table.popitem(last=False)
        return answer


class CatalogProxy(TimedRpcProxy):
    """RpcProxy("catalog") whose answers are kept as the module docstring says (and whose
    calls time out: onestop/common/rpc.py)."""

    def __init__(self, **options):
        super().__init__("catalog", **options)
        self.answers = None

    def setup(self):
        super().setup()
        self.answers = Answers(float(env("CATALOG_CACHE_SECONDS", CATALOG_CACHE_SECONDS)))

    def get_dependency(self, worker_ctx):
        return KeptCatalog(super().get_dependency(worker_ctx), self.answers)


class KeptCatalog:
    def __init__(self, proxy, answers):
        self._proxy = proxy
        self._answers = answers

    def __getattr__(self, method):
        ask = getattr(self._proxy, method)

        def call(*args, **kwargs):
            return self._answers.get(method, args, kwargs, ask)

        return call
