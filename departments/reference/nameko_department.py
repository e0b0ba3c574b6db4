"""Reference departments on the nameko SDK entrypoint (one consumer per department queue).

DEPARTMENTS (comma-separated) names the departments this process answers for. Each
department is a nameko service of its own (`DEPARTMENT_SERVICES`), run in a container of
its own whose AMQP_URI is that department's broker user (onestop/run_service.py,
onestop.common.broker_users.department_container_configs): several departments share the
process, never a connection or a credential. `ReferenceDepartment` serves the process's
health, readiness and metrics over HTTP and touches no broker.
"""

import os

from prometheus_client import Counter

from departments.reference.rules import Rules
from departments.sdk.nameko_entrypoint import approval_task
from onestop.common.metrics import Metrics
from onestop.common.service import Probes

NAME = "departments_nameko"  # the process's service name, and its metrics' prefix

ANSWERS = Counter(
    "departments_answers_total",
    "Answers given by reference departments",
    ["department", "decision"],
)


class _NoStore:
    @staticmethod
    def ping():
        return True


class ReferenceDepartment(Probes):
    """/health, /ready and /metrics of the process (no broker: the departments have theirs)."""

    name = NAME
    store = _NoStore()


def department_service(department, rules):
    """A nameko service class answering `department`'s tasks by `rules`; its entrypoint
    counted and timed under the process's name, as when all were one class."""

    @approval_task(department)
    def handle(self, task):
        answer = rules.decide(task)
        ANSWERS.labels(task["department"], answer["decision"] if answer else "deferred").inc()
        return answer

    handle.__name__ = f"decide_{department}"
    attrs = {
        "name": f"{NAME}_{department}",
        "entrypoint_metrics": Metrics(service=NAME),
        handle.__name__: handle,
    }
    return type(f"ReferenceDepartment_{department}", (), attrs)


def build(departments, rules):
    """department -> its nameko service class."""
    return {department: department_service(department, rules) for department in departments}


DEPARTMENT_SERVICES = build(
    [d for d in os.environ.get("DEPARTMENTS", "health").split(",") if d], Rules.from_file()
)
