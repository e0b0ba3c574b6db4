"""Reference departments on the nameko SDK entrypoint (one consumer per department queue).

DEPARTMENTS (comma-separated) names the departments this process answers for.
"""

import os

from prometheus_client import Counter

from departments.reference.rules import Rules
from departments.sdk.nameko_entrypoint import approval_task
from onestop.common.service import Probes

ANSWERS = Counter(
    "departments_answers_total",
    "Answers given by reference departments",
    ["department", "decision"],
)


class _NoStore:
    @staticmethod
    def ping():
        return True


def build(departments, rules):
    """A nameko service class with one @approval_task entrypoint per department."""

    def make_handler(department):
        @approval_task(department)
        def handle(self, task):
            answer = rules.decide(task)
            ANSWERS.labels(task["department"], answer["decision"] if answer else "deferred").inc()
            return answer

        handle.__name__ = f"decide_{department}"
        return handle

    attrs = {"name": "departments_nameko", "store": _NoStore()}
    for department in departments:
        attrs[f"decide_{department}"] = make_handler(department)
    return type("ReferenceDepartment", (Probes,), attrs)


ReferenceDepartment = build(
    [d for d in os.environ.get("DEPARTMENTS", "health").split(",") if d], Rules.from_file()
)
