"""Workload gauges computed from routing's store when Prometheus scrapes (docs/metrics.md).

Counters say what happened since the process started; these say what is true
now, so they are right after a restart and agree between routing replicas:
tasks waiting at each department office, waiting for the applicant's
correction, past their promised date; applications in review, at risk of
missing the scenario's promised limit, past it.

Labels are bounded by the catalog: department, office (department.region) and
scenario codes; never application ids or applicant data.
"""

import logging
import os
import time
from collections import Counter
from datetime import datetime, timedelta

from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily

from onestop.common.clock import utcnow
from onestop.common.mongo import Storage
from services.routing.store import TERMINAL_STATUSES

log = logging.getLogger(__name__)

AT_DEPARTMENT_STATES = ("sent",)
AWAITING_CORRECTION_STATES = ("correction_required", "awaiting_correction")
DEFAULT_AT_RISK_HOURS = 24
CACHE_SECONDS = 5

TASK_GAUGES = {
    "routing_tasks_open": "Tasks sent to a department office and not decided yet",
    "routing_tasks_awaiting_correction": "Tasks paused until the applicant supplies materials",
    "routing_tasks_overdue": "Open tasks past their promised date",
}
APPLICATION_GAUGES = {
    "routing_applications_in_review": "Applications without a combined decision",
    "routing_applications_at_risk": "Applications in review whose promised date is near "
    "(ROUTING_AT_RISK_HOURS) or passed",
    "routing_applications_overdue": "Applications in review past their promised date",
}


def _instant(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def workload(workflows, now, at_risk_within):
    """Count open work in workflow documents: metric name -> Counter of label tuples."""
    counts = {name: Counter() for name in (*TASK_GAUGES, *APPLICATION_GAUGES)}
    for workflow in workflows:
        if workflow.get("status") in TERMINAL_STATUSES:
            continue
        scenario = workflow.get("scenario", "unknown")
        counts["routing_applications_in_review"][(scenario,)] += 1
        due = _instant(workflow.get("due"))
        if due is not None and due - now <= at_risk_within:
            counts["routing_applications_at_risk"][(scenario,)] += 1
            if due < now:
                counts["routing_applications_overdue"][(scenario,)] += 1
        for task in (workflow.get("tasks") or {}).values():
            labels = (task["department"], task.get("office") or task["department"])
            if task["state"] in AT_DEPARTMENT_STATES:
                counts["routing_tasks_open"][labels] += 1
                task_due = _instant(task.get("due"))
                if task_due is not None and task_due < now:
                    counts["routing_tasks_overdue"][labels] += 1
            elif task["state"] in AWAITING_CORRECTION_STATES:
                counts["routing_tasks_awaiting_correction"][labels] += 1
    return counts


class WorkloadCollector:
    """A prometheus_client collector over routing's undecided workflows.

    Label sets seen once are reported as 0 when their work is done, so a
    department's overdue count falls to zero instead of vanishing.
    """

    def __init__(self, unfinished, now=utcnow, at_risk_hours=None, cache_seconds=CACHE_SECONDS):
        self.unfinished = unfinished  # a callable returning the workflows not decided yet
        self.now = now
        hours = (
            at_risk_hours
            if at_risk_hours is not None
            else float(os.environ.get("ROUTING_AT_RISK_HOURS", DEFAULT_AT_RISK_HOURS))
        )
        self.at_risk_within = timedelta(hours=hours)
        self.cache_seconds = cache_seconds
        self._cached_at = None
        self._counts = None
        self._seen = {name: set() for name in (*TASK_GAUGES, *APPLICATION_GAUGES)}

    def describe(self):
        return []  # computed at scrape time; no help text needed at registration

    def _current(self):
        if self._cached_at is None or time.monotonic() - self._cached_at >= self.cache_seconds:
            self._counts = workload(self.unfinished(), self.now(), self.at_risk_within)
            self._cached_at = time.monotonic()
        return self._counts

    def collect(self):
        up = GaugeMetricFamily(
            "routing_workload_up", "1 when the workload gauges could be read from the store"
        )
        try:
            counts = self._current()
        except Exception:  # a store outage must not break the scrape of every other metric
            log.exception("could not compute the workload gauges")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for names, label_names in (
            (TASK_GAUGES, ["department", "office"]),
            (APPLICATION_GAUGES, ["scenario"]),
        ):
            for name, documentation in names.items():
                family = GaugeMetricFamily(name, documentation, labels=label_names)
                self._seen[name].update(counts[name])
                for labels in sorted(self._seen[name]):
                    family.add_metric(list(labels), counts[name].get(labels, 0))
                yield family


class WorkloadGauges(DependencyProvider):
    """Registers the workload collector while the service runs (one line in the service)."""

    collector = None

    def start(self):
        storage = next(d for d in self.container.dependencies if isinstance(d, Storage))
        self.collector = WorkloadCollector(storage.store.unfinished)
        REGISTRY.register(self.collector)

    def stop(self):
        if self.collector is not None:
            REGISTRY.unregister(self.collector)
            self.collector = None

    kill = stop

    def get_dependency(self, worker_ctx):
        return None
