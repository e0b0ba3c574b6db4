"""notify's business metrics (docs/metrics.md)."""

from prometheus_client import Counter

NOTIFICATIONS = Counter(
    "notify_notifications_total",
    "Notifications stored (one per event, person and channel), by notice and channel",
    ["notice", "channel"],
)
DELIVERIES = Counter(
    "notify_deliveries_total",
    "Delivery attempts by channel and outcome (delivered, failed, skipped)",
    ["channel", "outcome"],
)
