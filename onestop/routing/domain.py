"""The approval workflow as pure functions (design §5): no nameko, no pymongo.

A workflow is one document per application; its tasks are a sub-document keyed
by item code. Every function takes the workflow and returns what changed and
the messages to send; the service persists both in one write (the outbox) and
only then publishes.

The combined decision is always computed from the stored per-task states,
never from a counter, so a replayed or reordered result cannot complete an
application early or twice.
"""
import copy
from dataclasses import dataclass, field

from onestop.contracts import messages as contract
from onestop.contracts.envelope import make_envelope
from onestop.contracts.events import APPLICATION_DECIDED, APPLICATION_UPDATED
from onestop.contracts.topology import TASKS_EXCHANGE, task_routing_key

OPEN_STATES = ("blocked", "sent")
FINAL_STATES = ("approved", "rejected", "cancelled")


@dataclass
class Outcome:
    """What applying one input did: kind is applied, duplicate, unknown, late or refused."""
    kind: str
    workflow: dict = None
    messages: list = field(default_factory=list)
    detail: str = ""


def task_id(application_id, item_code):
    return f"{application_id}:{item_code}"


def new_workflow(submitted, plan, now, calendar):
    """The workflow of a freshly submitted application, with its first tasks sent."""
    application_id = submitted["application_id"]
    tasks = {}
    for order, planned in enumerate(plan["tasks"]):
        tasks[planned["item_code"]] = dict(
            planned, task_id=task_id(application_id, planned["item_code"]), order=order,
            state="blocked", reason="", data={}, sent_at=None, decided_at=None, due=None)
    workflow = {
        "_id": application_id,
        "scenario": submitted["scenario"], "catalog_version": plan["catalog_version"],
        "applicant": submitted["applicant"], "region": submitted["region"],
        "channel": submitted["channel"], "form": submitted["form"],
        "materials": submitted["materials"], "submitted_at": submitted["submitted_at"],
        "promised_days": plan["promised_days"],
        "due": calendar.add_working_days(now, plan["promised_days"]).isoformat(),
        "status": "in_review", "decision": None, "tasks": tasks, "history": [], "rev": 0,
    }
    record(workflow, now, "routing", "application_submitted",
           f"planned {len(tasks)} tasks from catalog version {plan['catalog_version']}")
    messages = release_ready_tasks(workflow, now, calendar)
    messages.append(updated_event(workflow))
    return workflow, messages


def record(workflow, now, actor, cause, transition):
    workflow["history"].append({"at": now.isoformat(), "actor": actor, "cause": cause,
                                "transition": transition})


def release_ready_tasks(workflow, now, calendar):
    """Send every blocked task whose dependencies are all approved; pass their data on."""
    messages = []
    tasks = workflow["tasks"]
    for code, task in sorted(tasks.items(), key=lambda kv: kv[1]["order"]):
        if task["state"] != "blocked":
            continue
        if all(tasks[d]["state"] == "approved" for d in task["depends_on"]):
            task.update(state="sent", sent_at=now.isoformat(),
                        due=calendar.add_working_days(now, task["promised_days"]).isoformat())
            inputs = {d: tasks[d]["data"] for d in task["depends_on"]}
            messages.append(task_message(workflow, task, inputs))
            record(workflow, now, "routing", "dependencies_met",
                   f"task {code} sent to {task['office']}")
    return messages


def task_message(workflow, task, inputs):
    payload = {
        "task_id": task["task_id"], "application_id": workflow["_id"],
        "scenario": workflow["scenario"], "item_code": task["item_code"],
        "item_name": task["item_name"], "department": task["department"],
        "office": task["office"], "region": task["region"], "level": task["level"],
        "applicant": workflow["applicant"], "form": workflow["form"],
        "materials": workflow["materials"], "inputs": inputs, "due": task["due"],
    }
    return {"kind": "amqp", "exchange": TASKS_EXCHANGE,
            "routing_key": task_routing_key(task["department"], task["region"]),
            "body": make_envelope(contract.TASK, workflow["_id"], payload)}


def cancellation_message(workflow, task, reason):
    payload = {"task_id": task["task_id"], "application_id": workflow["_id"],
               "department": task["department"], "reason": reason}
    return {"kind": "amqp", "exchange": TASKS_EXCHANGE,
            "routing_key": task_routing_key(task["department"], task["region"]),
            "body": make_envelope(contract.CANCELLATION, workflow["_id"], payload)}


def apply_result(workflow, result, now, calendar):
    """Apply one department result to a copy of the workflow."""
    workflow = copy.deepcopy(workflow)
    task = next((t for t in workflow["tasks"].values() if t["task_id"] == result["task_id"]),
                None)
    if task is None:
        return Outcome("unknown", detail=f"no task {result['task_id']}")
    if result["department"] != task["department"]:
        return Outcome("refused", detail=f"task {task['task_id']} belongs to "
                                         f"{task['department']}, not {result['department']}")
    if task["state"] in FINAL_STATES:
        kind = "duplicate" if task["state"] == result["decision"] else "late"
        return Outcome(kind, detail=f"task {task['task_id']} is already {task['state']}")
    if task["state"] == "blocked":
        return Outcome("late", detail=f"task {task['task_id']} was never sent")
    if result["decision"] == "correction_required":
        # Correction is handled by a later issue; until then it is refused, not guessed at.
        return Outcome("refused", detail="correction_required is not supported yet")
    task.update(state=result["decision"], reason=result.get("reason", ""),
                data=result.get("data", {}), decided_at=now.isoformat())
    record(workflow, now, f"department:{task['department']}", "approval_result",
           f"task {task['item_code']} {result['decision']}"
           + (f": {result['reason']}" if result.get("reason") else ""))
    messages = []
    if result["decision"] == "rejected":
        messages.extend(cancel_open_tasks(workflow, now,
                                          f"application rejected by {task['department']}"))
    else:
        messages.extend(release_ready_tasks(workflow, now, calendar))
    messages.extend(decide(workflow, now))
    messages.append(updated_event(workflow))
    return Outcome("applied", workflow, messages)


def cancel_open_tasks(workflow, now, reason):
    """Cancel every undecided task; departments that received one are told."""
    messages = []
    for task in sorted(workflow["tasks"].values(), key=lambda t: t["order"]):
        if task["state"] in OPEN_STATES:
            if task["state"] == "sent":
                messages.append(cancellation_message(workflow, task, reason))
            task.update(state="cancelled", reason=reason, decided_at=now.isoformat())
            record(workflow, now, "routing", "cascade", f"task {task['item_code']} cancelled")
    return messages


def combined_outcome(tasks):
    """approved when every task is approved; rejected when any is; None while undecided."""
    states = [t["state"] for t in tasks.values()]
    if any(s == "rejected" for s in states):
        if all(s in FINAL_STATES for s in states):
            return "rejected"
        return None
    if states and all(s == "approved" for s in states):
        return "approved"
    return None


def decide(workflow, now):
    """Set the combined decision if the stored task states imply one; return the event."""
    if workflow["decision"] is not None:
        return []
    outcome = combined_outcome(workflow["tasks"])
    if outcome is None:
        return []
    workflow["status"] = outcome
    workflow["decision"] = {
        "outcome": outcome, "decided_at": now.isoformat(),
        "departments": [{"department": t["department"], "item_code": t["item_code"],
                         "item_name": t["item_name"], "outcome": t["state"],
                         "reason": t["reason"]}
                        for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])],
    }
    record(workflow, now, "routing", "combined_decision", f"application {outcome}")
    return [decided_event(workflow)]


def task_views(workflow):
    return [{"task_id": t["task_id"], "item_code": t["item_code"], "item_name": t["item_name"],
             "department": t["department"], "office": t["office"], "region": t["region"],
             "level": t["level"], "state": t["state"], "reason": t["reason"],
             "depends_on": t["depends_on"], "due": t["due"], "sent_at": t["sent_at"],
             "decided_at": t["decided_at"]}
            for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])]


def updated_event(workflow):
    # rev is the revision this write will carry (the service bumps it when persisting)
    return {"kind": "event", "event_type": APPLICATION_UPDATED,
            "body": {"application_id": workflow["_id"], "rev": workflow["rev"] + 1,
                     "status": workflow["status"], "tasks": task_views(workflow),
                     "decision": workflow["decision"]}}


def decided_event(workflow):
    return {"kind": "event", "event_type": APPLICATION_DECIDED, "body": {
        "application_id": workflow["_id"], "scenario": workflow["scenario"],
        "catalog_version": workflow["catalog_version"],
        "applicant": workflow["applicant"], "region": workflow["region"],
        "channel": workflow["channel"], "submitted_at": workflow["submitted_at"],
        "decision": workflow["decision"],
        "tasks": [{"task_id": t["task_id"], "item_code": t["item_code"],
                   "item_name": t["item_name"], "department": t["department"],
                   "region": t["region"], "state": t["state"],
                   "license_type": t.get("license_type"), "data": t["data"]}
                  for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])],
    }}


def reconcile(workflow, now):
    """The sweep's join repair: finish an application whose tasks are all decided."""
    workflow = copy.deepcopy(workflow)
    messages = decide(workflow, now)
    if not messages:
        return Outcome("duplicate")
    messages.append(updated_event(workflow))
    return Outcome("applied", workflow, messages)
