"""routing's business metrics (docs/metrics.md), and what each written change counts.

The workload gauges, read from the store at each scrape, are in routing/gauges.py.
"""

from datetime import datetime

from prometheus_client import Counter, Histogram

from onestop.contracts import messages as contract

TASKS_SENT = Counter("routing_tasks_sent_total", "Tasks sent to departments", ["department"])
TASKS_DECIDED = Counter(
    "routing_tasks_decided_total", "Task results applied", ["department", "decision"]
)
RESULTS_IGNORED = Counter(
    "routing_results_ignored_total",
    "Inputs (results, corrections, withdrawals) that changed no decision: "
    "duplicate, unknown, late, refused",
    ["kind"],
)
RESULTS_REFUSED = Counter(
    "routing_results_refused_total",
    "Results refused at the department boundary and dead-lettered "
    "(reason: unauthenticated, unknown_sender, impersonation, "
    "foreign_task, extra_material)",
    ["reason"],
)
DECISIONS = Counter("routing_decisions_total", "Combined decisions", ["scenario", "outcome"])
DECISION_SECONDS = Histogram(
    "routing_submit_to_decision_seconds",
    "Time from submission to the combined decision",
    ["scenario"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
SUPERVISION_EVENTS = Counter(
    "routing_supervision_events_total",
    "Tasks flagged by supervision (due_soon: promised date near; overdue: promised date "
    "passed; escalated: legal limit passed)",
    ["department", "event"],
)
TASK_DECISION_SECONDS = Histogram(
    "routing_task_decision_seconds",
    "Time from a task's sending to its decision, correction pauses excluded",
    ["department", "decision"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 8 * 3600, 86400, 5 * 86400, 20 * 86400),
)
CORRECTIONS_REQUESTED = Counter(
    "routing_corrections_requested_total",
    "Correction requests applied (a task waits for the applicant)",
    ["department"],
)
WITHDRAWALS = Counter(
    "routing_withdrawals_total", "Applications withdrawn before a decision", ["scenario"]
)
WRITE_CONFLICTS = Counter(
    "routing_write_conflicts_total",
    "Optimistic write conflicts retried (concurrent routing workers)",
)


def count_tasks_sent(messages):
    """The tasks among a write's messages, by department."""
    for message in messages:
        if message["kind"] == "amqp" and message["body"]["type"] == contract.TASK:
            TASKS_SENT.labels(message["body"]["payload"]["department"]).inc()


def count_change(before, after, now):
    """What a written change did: tasks flagged by supervision, decided or sent back for a
    correction, and the combined decision."""
    for code, task in after["tasks"].items():
        for flag, event in (
            ("due_soon", "due_soon"),
            ("overdue", "overdue"),
            ("escalated", "escalated"),
        ):
            if task.get(flag) and not before["tasks"][code].get(flag):
                SUPERVISION_EVENTS.labels(task["department"], event).inc()
        changed = task["state"] != before["tasks"][code]["state"]
        if changed and task["state"] in ("approved", "rejected"):
            TASKS_DECIDED.labels(task["department"], task["state"]).inc()
            if task.get("sent_at"):
                took = (now - datetime.fromisoformat(task["sent_at"])).total_seconds()
                TASK_DECISION_SECONDS.labels(task["department"], task["state"]).observe(
                    max(0.0, took - task.get("paused_seconds", 0))
                )
        if changed and task["state"] == "correction_required":
            CORRECTIONS_REQUESTED.labels(task["department"]).inc()
    if before["decision"] is None and after["decision"] is not None:
        if after["decision"]["outcome"] == "withdrawn":
            WITHDRAWALS.labels(after["scenario"]).inc()
        DECISIONS.labels(after["scenario"], after["decision"]["outcome"]).inc()
        submitted = datetime.fromisoformat(after["submitted_at"])
        DECISION_SECONDS.labels(after["scenario"]).observe(
            max(0.0, (now - submitted).total_seconds())
        )
