"""Metrics of the SDK's consumers (docs/metrics.md), for a consumer that serves /metrics.

The pika worker itself imports no metrics library: its `on_outcome` callback
reports `publish_failed`, and the process that runs it counts it here.
"""
from prometheus_client import Counter

RESULT_PUBLISH_FAILURES = Counter(
    "departments_result_publish_failures_total",
    "Results the broker did not confirm (the task is redelivered)", ["department"])
