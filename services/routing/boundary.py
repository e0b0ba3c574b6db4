"""Who may decide a task: its department's broker user, and nobody else (design §4).

Every result carries the AMQP `user_id` property, which RabbitMQ checks against
the publishing connection's user; each department has its own user
(docs/adr/0005-department-broker-users.md). A result that is not signed that way,
that speaks for another department, or that answers another department's task is
refused; so is a correction request naming a material outside the item's standard list
(the seed: no additional materials; reason `extra_material`): dead-lettered with the reason (onestop.common.messaging) and counted in
routing_results_refused_total{reason}.
"""

from onestop.common.broker_users import department_of_user
from onestop.contracts.envelope import InvalidMessage
from services.routing.domain import extra_materials, extra_materials_message
from services.routing.metrics import RESULTS_REFUSED


def refusal(sender, result, workflow, prefix=None):
    """(reason, detail) when broker user `sender` may not give `result`, else None."""
    if not sender:
        return "unauthenticated", "the result has no user_id property"
    department = department_of_user(sender, prefix)
    if department is None:
        return "unknown_sender", f"{sender} is not a department's broker user"
    if result["department"] != department:
        return "impersonation", (f"{sender} may not answer for department {result['department']}")
    tasks = (workflow or {}).get("tasks", {}).values()
    task = next((t for t in tasks if t["task_id"] == result["task_id"]), None)
    if task is not None and task["department"] != department:
        return "foreign_task", (
            f"task {task['task_id']} belongs to {task['department']}, not {department}"
        )
    if task is not None and result.get("decision") == "correction_required":
        extra = extra_materials(task, result.get("materials", []))
        if extra:  # no additional materials beyond the item's standard list (design §1)
            return "extra_material", "; ".join(extra_materials_message(task, c) for c in extra)
    return None


def authenticate_result(sender, result, workflow):
    """Raise InvalidMessage (dead-letter) and count when the sender may not give the result."""
    refused = refusal(sender, result, workflow)
    if refused is not None:
        reason, detail = refused
        RESULTS_REFUSED.labels(reason).inc()
        raise InvalidMessage(f"result refused ({reason}): {detail}")
