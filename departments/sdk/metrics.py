"""Metrics of the SDK's consumers (docs/metrics.md), for a consumer that serves /metrics.

The pika worker itself imports no metrics library: its `on_outcome` callback
reports `publish_failed`, and the process that runs it counts it here.

`messages_dead_lettered_total` and `messages_requeued_total` are the same families the
platform's own consumers count (onestop/common/messaging.py): a process that holds both
(a test, the platform's reference departments) shares one counter of each.
"""

from prometheus_client import REGISTRY, Counter


def shared_counter(name, documentation, labels):
    """The process's counter `name`: made here, or the one already registered under it."""
    try:
        return Counter(name, documentation, labels)
    except ValueError:  # registered before, by the platform's consumers in this process
        return REGISTRY._names_to_collectors[name]


RESULT_PUBLISH_FAILURES = Counter(
    "departments_result_publish_failures_total",
    "Results the broker did not confirm (the task is redelivered)",
    ["department"],
)
DEAD_LETTERED = shared_counter(
    "messages_dead_lettered_total", "Messages moved to the dead-letter exchange", ["queue", "cause"]
)
REDELIVERIES = shared_counter(
    "messages_requeued_total", "Messages requeued after a failed handler", ["queue", "cause"]
)
