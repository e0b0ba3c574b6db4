"""catalog's business metrics (docs/metrics.md)."""

from prometheus_client import Counter

# kind: view (a scenario's view, HTTP or RPC), form (its form schema), plan (HTTP or RPC)
SCENARIO_REQUESTS = Counter(
    "catalog_scenario_requests_total",
    "Scenario views, forms and plans answered, by scenario (only scenarios that exist)",
    ["scenario", "kind"],
)

# result: found (at least one package matched), none (the answer was empty, with a hint)
SEARCHES = Counter(
    "catalog_searches_total",
    "Searches answered (GET /api/search), by whether any package matched",
    ["result"],
)
