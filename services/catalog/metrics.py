"""catalog's business metrics (docs/metrics.md)."""

from prometheus_client import Counter

# kind: view (a scenario's view, HTTP or RPC), form (its form schema), plan (HTTP or RPC)
SCENARIO_REQUESTS = Counter(
    "catalog_scenario_requests_total",
    "Scenario views, forms and plans answered, by scenario (only scenarios that exist)",
    ["scenario", "kind"],
)
