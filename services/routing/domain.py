"""The approval workflow as pure functions (design §5): no nameko, no pymongo.

A workflow is one document per application; its tasks are a sub-document keyed
by item code. Every function takes the workflow and returns what changed and
the messages to send; the service persists both in one write (the outbox) and
only then publishes.

The combined decision is always computed from the stored per-task states,
never from a counter, so a replayed or reordered result cannot complete an
application early or twice.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onestop.contracts import messages as contract
from onestop.contracts.envelope import make_envelope
from onestop.contracts.events import (
    ACCEPTANCE_OVERDUE,
    APPLICATION_DECIDED,
    APPLICATION_UPDATED,
    CORRECTION_REQUESTED,
    TASK_DUE_SOON,
    NOTICE_ISSUED,
    TASK_ESCALATED,
    TASK_OVERDUE,
)
from onestop.contracts.topology import TASKS_EXCHANGE, task_routing_key

OPEN_STATES = ("blocked", "sent", "correction_required", "awaiting_payment")
FINAL_STATES = ("approved", "rejected", "cancelled")
DECIDED_STATUSES = ("approved", "rejected", "withdrawn", "not_accepted")
MAX_CORRECTION_ROUNDS = 2
DUE_SOON = timedelta(days=1)  # how long before its promised date a task is said to near it
# acceptance (受理): "auto" accepts on arrival (development, tests, a mesh without a hall);
# "manual" waits for a hall clerk's acceptance within ACCEPTANCE_DAYS working days
ACCEPTANCE_MODES = ("auto", "manual")
ACCEPTANCE_DAYS = 1
NOTICE_TITLES = {
    "acceptance": "受理通知书",
    "non_acceptance": "不予受理通知书",
    "rejection": "不予许可决定书",
}
APPEAL_RIGHTS = {
    "reconsideration_days": 60,
    "litigation_months": 6,
    "text_zh": "如不服本决定，可以自收到本文书之日起60日内依法申请行政复议，"
    "或者自收到本文书之日起6个月内依法向人民法院提起行政诉讼。",
}
SEEN_RESULTS_KEPT = 20
# late results for a cancelled task recorded in the audit trail; later ones are dropped
# unrecorded (counted in routing_results_ignored_total{kind="late"}), so a department
# repeating them cannot grow a workflow without bound (issue 14)
LATE_RESULTS_RECORDED = 5


@dataclass
class Outcome:
    """What applying one input did: kind is applied, duplicate, unknown, late or refused."""

    kind: str
    workflow: dict = None
    messages: list = field(default_factory=list)
    detail: str = ""


def editable(workflow):
    """A copy of `workflow` that a step may change, leaving `workflow` as it was: the caller
    keeps it for the compare-and-set and as the copy its store remembers, and messages
    already made may share parts of it.

    Copied (shallow): the containers a step changes in place, i.e. the document, its tasks
    and each task, the history and the notices (appended to), the acceptance (updated).
    Shared: what a step only reads or replaces whole, never changes in place: the form,
    the materials, a task's data, dependencies, requested materials and seen results, a
    history entry, a notice, the decision (made once, in `decide`), the outbox. A step that
    changes anything else in place must copy it here first; the unit tests check that every
    step leaves its input equal to a deep copy taken before (a deep copy of the whole
    workflow per step was most of routing's CPU per application, docs/adr/0030)."""
    copied = dict(workflow)
    copied["tasks"] = {code: dict(task) for code, task in workflow["tasks"].items()}
    for appended in ("history", "notices"):
        if workflow.get(appended) is not None:
            copied[appended] = list(workflow[appended])
    if workflow.get("acceptance") is not None:
        copied["acceptance"] = dict(workflow["acceptance"])
    return copied


def task_id(application_id, item_code):
    return f"{application_id}:{item_code}"


def new_workflow(submitted, plan, now, calendar, acceptance="auto", acceptance_days=None):
    """The workflow of a freshly submitted application. Accepted on arrival (`auto`): its
    first tasks are sent; else (`manual`) it waits in `accepting` for the hall's acceptance
    within `acceptance_days` working days."""
    application_id = submitted["application_id"]
    tasks = {}
    for order, planned in enumerate(plan["tasks"]):
        tasks[planned["item_code"]] = dict(
            planned,
            task_id=task_id(application_id, planned["item_code"]),
            order=order,
            state="blocked",
            reason="",
            data={},
            sent_at=None,
            decided_at=None,
            due=None,
            legal_due=None,
            attempt=0,
            corrections=0,
            requested_materials=[],
            paused_at=None,
            due_soon=False,
            overdue=False,
            escalated=False,
            seen=[],
        )
    workflow = {
        "_id": application_id,
        "scenario": submitted["scenario"],
        "catalog_version": plan["catalog_version"],
        "applicant": submitted["applicant"],
        "region": submitted["region"],
        "channel": submitted["channel"],
        "form": submitted["form"],
        "materials": submitted["materials"],
        "submitted_at": submitted["submitted_at"],
        "submitted_by": submitted.get("submitted_by"),
        "counter": submitted.get("counter"),
        "promised_days": plan["promised_days"],
        "due": calendar.add_working_days(now, plan["promised_days"]).isoformat(),
        "status": "accepting",
        "decision": None,
        "tasks": tasks,
        "acceptance": {
            "state": "pending",
            "mode": acceptance,
            "due": calendar.add_working_days(
                now, ACCEPTANCE_DAYS if acceptance_days is None else acceptance_days
            ).isoformat(),
            "decided_at": None,
            "by": None,
            "reasons": [],
            "overdue": False,
        },
        "notices": [],
        "history": [],
        "rev": 0,
    }
    record(
        workflow,
        now,
        "routing",
        "application_submitted",
        f"planned {len(tasks)} tasks from catalog version {plan['catalog_version']}",
    )
    if acceptance == "auto":
        messages = accepted(workflow, now, calendar, "routing", "auto")
    else:
        record(workflow, now, "routing", "awaiting_acceptance", "awaiting the hall's acceptance")
        messages = []
    set_watch(workflow)
    messages.append(updated_event(workflow))
    return workflow, messages


def accepted(workflow, now, calendar, actor, by):
    """受理: the acceptance notice, the promised date counted from now, the first tasks."""
    workflow["acceptance"].update(state="accepted", decided_at=now.isoformat(), by=by)
    workflow["status"] = "in_review"
    workflow["due"] = calendar.add_working_days(now, workflow["promised_days"]).isoformat()
    record(workflow, now, actor, "accepted", "application accepted (受理)", by=by)
    messages = [issue_notice(workflow, "acceptance", now, by)]
    return messages + release_ready_tasks(workflow, now, calendar)


def decide_acceptance(workflow, now, calendar, decision, by, reasons=()):
    """The hall's decision on an application in `accepting`: accept (受理), and its tasks
    go out; or refuse to accept (不予受理) with reasons, and the application ends."""
    workflow = editable(workflow)
    if workflow["status"] != "accepting":
        state = (workflow.get("acceptance") or {}).get("state")
        kind = (
            "duplicate" if state == ("accepted" if decision == "accept" else "refused") else "late"
        )
        return Outcome(kind, detail=f"application is {workflow['status']}, not accepting")
    if decision == "accept":
        return finish(workflow, now, accepted(workflow, now, calendar, "hall", by))
    workflow["acceptance"].update(
        state="refused", decided_at=now.isoformat(), by=by, reasons=list(reasons)
    )
    reason = "不予受理：" + "；".join(reasons)
    record(workflow, now, "hall", "not_accepted", reason, by=by)
    for task in workflow["tasks"].values():  # none was sent: nobody to tell
        task.update(state="cancelled", reason=reason, decided_at=now.isoformat())
    messages = [issue_notice(workflow, "non_acceptance", now, by, reasons)]
    messages.extend(decide(workflow, now, outcome="not_accepted", reasons=reasons))
    return finish(workflow, now, messages)


def issue_notice(workflow, kind, now, by, reasons=()):
    """A formal notice (受理通知书 / 不予受理通知书 / 不予许可决定书): kept by reference on the
    workflow, published whole in `notice_issued` for the license service to sign and serve.
    One notice of a kind per application: its id says which."""
    notice = {
        "notice_id": f"{workflow['_id']}:{kind}",
        "kind": kind,
        "title_zh": NOTICE_TITLES[kind],
        "application_id": workflow["_id"],
        "scenario": workflow["scenario"],
        "catalog_version": workflow["catalog_version"],
        "applicant": workflow["applicant"],
        "submitted_by": workflow.get("submitted_by"),
        "region": workflow["region"],
        "channel": workflow["channel"],
        "submitted_at": workflow["submitted_at"],
        "issued_at": now.isoformat(),
        "issued_by": by,
        "items": [
            {"item_code": t["item_code"], "item_name": t["item_name"]}
            for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])
        ],
        "reasons": list(reasons),
    }
    if kind == "acceptance":
        notice["promised_due"] = workflow["due"]
    else:  # a refusal to accept and a rejection are administrative acts: they may be appealed
        notice["appeal"] = dict(APPEAL_RIGHTS)
    workflow.setdefault("notices", []).append(
        {k: notice[k] for k in ("notice_id", "kind", "title_zh", "issued_at")}
    )
    record(workflow, now, "routing", NOTICE_ISSUED, f"{notice['title_zh']} {notice['notice_id']}")
    return {"kind": "event", "event_type": NOTICE_ISSUED, "body": notice}


def record(workflow, now, actor, cause, transition, by=""):
    entry = {"at": now.isoformat(), "actor": actor, "cause": cause, "transition": transition}
    if by:  # the person who acted for the actor (an officer of the department)
        entry["by"] = by
    workflow["history"].append(entry)


def release_ready_tasks(workflow, now, calendar):
    """Send every blocked task whose dependencies are all approved; pass their data on."""
    messages = []
    tasks = workflow["tasks"]
    for code, task in sorted(tasks.items(), key=lambda kv: kv[1]["order"]):
        if task["state"] != "blocked":
            continue
        if all(tasks[d]["state"] == "approved" for d in task["depends_on"]):
            task.update(
                state="sent",
                sent_at=now.isoformat(),
                attempt=1,
                due=calendar.add_working_days(now, task["promised_days"]).isoformat(),
                legal_due=calendar.add_working_days(now, task["legal_days"]).isoformat(),
            )
            inputs = {d: tasks[d]["data"] for d in task["depends_on"]}
            messages.append(task_message(workflow, task, inputs))
            record(
                workflow,
                now,
                "routing",
                "dependencies_met",
                f"task {code} sent to {task['office']}",
            )
    return messages


def extra_materials(task, materials):
    """The materials of a correction request that are not on the task's item's standard list
    (the seed: no additional materials beyond the standardised list). A task stored before
    the plan carried the list (no `materials`) is not checked."""
    if "materials" not in task:
        return []
    standard = set(task["materials"])
    return [code for code in materials if code not in standard]


def extra_materials_message(task, code):
    return (
        f"{code} is not on the standard list of item {task['item_code']}; "
        f"ask only among: {', '.join(task['materials']) or 'nothing'}"
    )


def task_identity(workflow, task):
    """What names a task wherever it is shown: to its department, and to an officer."""
    return {
        "task_id": task["task_id"],
        "application_id": workflow["_id"],
        "scenario": workflow["scenario"],
        "item_code": task["item_code"],
        "item_name": task["item_name"],
        "department": task["department"],
        "office": task["office"],
        "region": task["region"],
        "level": task["level"],
    }


def task_message(workflow, task, inputs):
    payload = {
        **task_identity(workflow, task),
        "applicant": workflow["applicant"],
        "form": workflow["form"],
        "materials": workflow["materials"],
        "inputs": inputs,
        "due": task["due"],
        "attempt": task["attempt"],
        "item_materials": task.get("materials", []),
        "fee": task.get("fee", 0),
    }
    return department_message(contract.TASK, workflow, task, payload)


def cancellation_message(workflow, task, reason):
    payload = {
        "task_id": task["task_id"],
        "application_id": workflow["_id"],
        "department": task["department"],
        "reason": reason,
    }
    return department_message(contract.CANCELLATION, workflow, task, payload)


def department_message(message_type, workflow, task, payload):
    """An outbox entry for the task's department: the envelope, and the AMQP properties
    docs/asyncapi.yaml promises (message_id the envelope's, correlation_id the application)."""
    envelope = make_envelope(message_type, workflow["_id"], payload)
    return {
        "kind": "amqp",
        "exchange": TASKS_EXCHANGE,
        "routing_key": task_routing_key(task["department"], task["region"]),
        "body": envelope,
        "properties": {
            "message_id": envelope["message_id"],
            "correlation_id": envelope["correlation_id"],
        },
    }


def apply_result(
    workflow, result, now, calendar, message_id=None, max_corrections=MAX_CORRECTION_ROUNDS
):
    """Apply one department result to a copy of the workflow."""
    workflow = editable(workflow)
    task = next((t for t in workflow["tasks"].values() if t["task_id"] == result["task_id"]), None)
    if task is None:
        return Outcome("unknown", detail=f"no task {result['task_id']}")
    if result["department"] != task["department"]:
        return Outcome(
            "refused",
            detail=f"task {task['task_id']} belongs to "
            f"{task['department']}, not {result['department']}",
        )
    if message_id and message_id in task.get("seen", []):
        return Outcome("duplicate", detail=f"result {message_id} was already applied")
    if workflow["status"] in DECIDED_STATUSES or task["state"] in FINAL_STATES:
        if task["state"] == result["decision"]:
            return Outcome("duplicate", detail=f"task {task['task_id']} is already {task['state']}")
        detail = f"task {task['task_id']} is already {task['state']}"
        if task["state"] == "cancelled" and message_id not in task.get("seen", []):
            if task.get("late_results", 0) >= LATE_RESULTS_RECORDED:
                return Outcome("late", detail=detail + " (late results: no longer recorded)")
            # recorded in the audit trail, and otherwise ignored
            task["late_results"] = task.get("late_results", 0) + 1
            task["seen"] = (task.get("seen", []) + [message_id or ""])[-SEEN_RESULTS_KEPT:]
            record(
                workflow,
                now,
                f"department:{task['department']}",
                "late_result",
                f"{result['decision']} for cancelled task {task['item_code']} ignored",
            )
            return Outcome("late", workflow, detail=detail)
        return Outcome("late", detail=detail)
    if task["state"] == "blocked":
        return Outcome("late", detail=f"task {task['task_id']} was never sent")
    if task["state"] == "correction_required":
        return Outcome("late", detail=f"task {task['task_id']} awaits the applicant's correction")
    if task["state"] == "awaiting_payment":
        return Outcome("late", detail=f"task {task['task_id']} awaits the applicant's payment")
    payment = result.get("payment") if result["decision"] == "approved" else None
    if payment and not fee_matches(task, payment["amount"]):
        return Outcome("refused", detail=wrong_amount(task, payment["amount"]))
    if message_id:
        task["seen"] = (task.get("seen", []) + [message_id])[-SEEN_RESULTS_KEPT:]
    actor = f"department:{task['department']}"
    decision, reason = result["decision"], result.get("reason", "")
    if decision == "correction_required" and task["corrections"] >= max_corrections:
        decision = "rejected"
        reason = (
            f"correction limit reached: {max_corrections} rounds of correction did not "
            f"satisfy {task['department']}" + (f" ({reason})" if reason else "")
        )
    if decision == "correction_required":
        task.update(
            state="correction_required",
            reason=reason,
            paused_at=now.isoformat(),
            requested_materials=list(result.get("materials", [])),
        )
        record(
            workflow,
            now,
            actor,
            "correction_required",
            f"task {task['item_code']} needs {', '.join(task['requested_materials'])}"
            + (f": {reason}" if reason else ""),
            by=result.get("decided_by", ""),
        )
        workflow["status"] = "awaiting_correction"
        return finish(workflow, now, [correction_event(workflow, task, now)])
    if decision == "approved" and task.get("fee", 0) > 0 and not payment:
        # decided by the department; the decision waits for the applicant's payment, and the
        # application's clock stops meanwhile (docs/adr/0023-acceptance-and-notices.md)
        task.update(
            state="awaiting_payment",
            reason="",
            data=result.get("data", {}),
            paused_at=now.isoformat(),
        )
        record(
            workflow,
            now,
            actor,
            "awaiting_payment",
            f"task {task['item_code']} approved, awaiting payment of {task['fee']} CNY",
            by=result.get("decided_by", ""),
        )
        return finish(workflow, now, [])
    if payment:
        task["payment"] = dict(payment, paid_at=now.isoformat())
    task.update(
        state=decision, reason=reason, data=result.get("data", {}), decided_at=now.isoformat()
    )
    record(
        workflow,
        now,
        actor,
        "approval_result",
        f"task {task['item_code']} {decision}" + (f": {reason}" if reason else ""),
        by=result.get("decided_by", ""),
    )
    if decision == "rejected":
        messages = cancel_open_tasks(workflow, now, f"application rejected by {task['department']}")
    else:
        messages = release_ready_tasks(workflow, now, calendar)
    return finish(workflow, now, messages)


def fee_matches(task, amount):
    return abs(float(amount) - float(task.get("fee", 0))) < 0.005


def wrong_amount(task, amount):
    return (
        f"payment of {amount} CNY for task {task['task_id']} does not match its fee of "
        f"{task.get('fee', 0)} CNY"
    )


def apply_payment(workflow, payment, now, calendar, message_id=None):
    """The applicant paid a task's fee (the department confirms): the task is approved, the
    application's clock resumes, later tasks go out, the decision may follow."""
    workflow = editable(workflow)
    task = next((t for t in workflow["tasks"].values() if t["task_id"] == payment["task_id"]), None)
    if task is None:
        return Outcome("unknown", detail=f"no task {payment['task_id']}")
    if payment["department"] != task["department"]:
        return Outcome("refused", detail=f"task {task['task_id']} belongs to {task['department']}")
    if task["state"] != "awaiting_payment":
        kind = "duplicate" if task.get("payment") else "late"
        return Outcome(
            kind, detail=f"task {task['task_id']} is {task['state']}, not awaiting payment"
        )
    if not fee_matches(task, payment["amount"]):
        return Outcome("refused", detail=wrong_amount(task, payment["amount"]))
    paused = calendar.working_days_between(datetime.fromisoformat(task["paused_at"]), now)
    if paused and workflow.get("due"):
        workflow["due"] = calendar.add_working_days(
            datetime.fromisoformat(workflow["due"]), paused
        ).isoformat()
    paused_seconds = (now - datetime.fromisoformat(task["paused_at"])).total_seconds()
    task["paused_seconds"] = task.get("paused_seconds", 0) + max(0.0, paused_seconds)
    if message_id:
        task["seen"] = (task.get("seen", []) + [message_id])[-SEEN_RESULTS_KEPT:]
    task.update(
        state="approved",
        paused_at=None,
        decided_at=now.isoformat(),
        payment={
            "amount": payment["amount"],
            "receipt_number": payment["receipt_number"],
            "paid_at": now.isoformat(),
        },
    )
    record(
        workflow,
        now,
        f"department:{task['department']}",
        "payment_confirmed",
        f"task {task['item_code']}: {payment['amount']} CNY paid (receipt "
        f"{payment['receipt_number']}); clock resumed after {paused} working days",
        by=payment.get("confirmed_by", ""),
    )
    return finish(workflow, now, release_ready_tasks(workflow, now, calendar))


def finish(workflow, now, messages):
    """Common tail of every change: decide if the task states imply it, set the status,
    announce the new snapshot."""
    messages = messages + decide(workflow, now)
    if workflow["decision"] is None and workflow["status"] != "accepting":
        states = {t["state"] for t in workflow["tasks"].values()}
        workflow["status"] = (
            "awaiting_correction"
            if "correction_required" in states
            else "awaiting_payment"
            if "awaiting_payment" in states
            else "in_review"
        )
    set_watch(workflow)
    messages.append(updated_event(workflow))
    return Outcome("applied", workflow, messages)


def apply_correction(workflow, correction, now, calendar):
    """The applicant supplied materials: only the tasks that asked go back, clocks resume."""
    workflow = editable(workflow)
    if workflow["status"] in DECIDED_STATUSES:
        return Outcome("late", detail=f"application is already {workflow['status']}")
    waiting = [
        t
        for t in workflow["tasks"].values()
        if t["state"] == "correction_required"
        and (not correction.get("task_ids") or t["task_id"] in correction["task_ids"])
    ]
    if not waiting:
        return Outcome("duplicate", detail="no task awaits a correction")
    supplied = {m["code"]: m for m in correction["materials"]}
    workflow["materials"] = [m for m in workflow["materials"] if m["code"] not in supplied]
    workflow["materials"].extend(correction["materials"])
    messages = []
    for task in sorted(waiting, key=lambda t: t["order"]):
        paused = calendar.working_days_between(datetime.fromisoformat(task["paused_at"]), now)
        for limit in ("due", "legal_due"):
            task[limit] = (
                calendar.add_working_days(datetime.fromisoformat(task[limit]), paused).isoformat()
                if paused
                else task[limit]
            )
        paused_seconds = (now - datetime.fromisoformat(task["paused_at"])).total_seconds()
        task["paused_seconds"] = task.get("paused_seconds", 0) + max(0.0, paused_seconds)
        task.update(
            state="sent",
            reason="",
            paused_at=None,
            requested_materials=[],
            corrections=task["corrections"] + 1,
            attempt=task["attempt"] + 1,
        )
        inputs = {d: workflow["tasks"][d]["data"] for d in task["depends_on"]}
        messages.append(task_message(workflow, task, inputs))
        record(
            workflow,
            now,
            "applicant",
            "application_corrected",
            f"task {task['item_code']} sent back to {task['office']} (round "
            f"{task['corrections']}, clock resumed after {paused} working days)",
        )
    return finish(workflow, now, messages)


def withdraw(workflow, now, reason="withdrawn by the applicant"):
    """The applicant withdraws before the decision: open tasks are cancelled."""
    workflow = editable(workflow)
    if workflow["status"] in DECIDED_STATUSES:
        kind = "duplicate" if workflow["status"] == "withdrawn" else "late"
        return Outcome(kind, detail=f"application is already {workflow['status']}")
    messages = cancel_open_tasks(workflow, now, reason)
    record(workflow, now, "applicant", "application_withdrawn", reason)
    messages.extend(decide(workflow, now, withdrawn=True))
    return finish(workflow, now, messages)


def cancel_open_tasks(workflow, now, reason):
    """Cancel every undecided task; departments that received one are told."""
    messages = []
    for task in sorted(workflow["tasks"].values(), key=lambda t: t["order"]):
        if task["state"] in OPEN_STATES:
            if task["state"] in ("sent", "correction_required", "awaiting_payment"):
                messages.append(cancellation_message(workflow, task, reason))
            task.update(state="cancelled", reason=reason, decided_at=now.isoformat())
            record(workflow, now, "routing", "cascade", f"task {task['item_code']} cancelled")
    return messages


def combined_outcome(tasks):
    """approved when every task is approved; rejected when any is and none is open."""
    states = [t["state"] for t in tasks.values()]
    if any(s == "rejected" for s in states):
        if all(s in FINAL_STATES for s in states):
            return "rejected"
        return None
    if states and all(s == "approved" for s in states):
        return "approved"
    return None


def decide(workflow, now, withdrawn=False, outcome=None, reasons=()):
    """Set the combined decision if the stored task states imply one (or `outcome` says
    it); return the event, and the rejection notice (不予许可决定书) of a rejection."""
    if workflow["decision"] is not None:
        return []
    outcome = outcome or ("withdrawn" if withdrawn else combined_outcome(workflow["tasks"]))
    if outcome is None:
        return []
    workflow["status"] = outcome
    workflow["decision"] = {
        "outcome": outcome,
        "decided_at": now.isoformat(),
        "departments": [
            {
                "department": t["department"],
                "item_code": t["item_code"],
                "item_name": t["item_name"],
                "outcome": t["state"],
                "reason": t["reason"],
            }
            for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])
        ],
    }
    notices = []
    if outcome == "rejected":
        reasons = [
            f"{t['item_name']}（{t['department']}）：{t['reason']}"
            for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])
            if t["state"] == "rejected"
        ]
        notices.append(issue_notice(workflow, "rejection", now, "routing", reasons))
    if reasons:
        workflow["decision"]["reasons"] = list(reasons)
    if outcome in ("rejected", "not_accepted"):
        workflow["decision"]["appeal"] = dict(APPEAL_RIGHTS)
    workflow["decision"]["notices"] = [n["notice_id"] for n in workflow.get("notices", [])]
    record(workflow, now, "routing", "combined_decision", f"application {outcome}")
    return notices + [decided_event(workflow)]


def supervise(workflow, now):
    """Warn of sent tasks nearing their promised date (once, DUE_SOON before it), mark those
    past it overdue (once), escalate at the legal limit."""
    workflow = editable(workflow)
    messages = []
    acceptance = workflow.get("acceptance") or {}
    if (
        workflow["status"] == "accepting"
        and not acceptance.get("overdue")
        and datetime.fromisoformat(acceptance["due"]) < now
    ):
        acceptance["overdue"] = True
        messages.append(acceptance_overdue_event(workflow))
        record(
            workflow,
            now,
            "supervision",
            ACCEPTANCE_OVERDUE,
            "the hall did not decide on acceptance by its deadline",
        )
    for task in sorted(workflow["tasks"].values(), key=lambda t: t["order"]):
        if task["state"] != "sent":
            continue
        due = datetime.fromisoformat(task["due"])
        if not task.get("due_soon") and not task["overdue"] and due - DUE_SOON <= now < due:
            task["due_soon"] = True
            messages.append(supervision_event(workflow, task, TASK_DUE_SOON, task["due"]))
            record(
                workflow,
                now,
                "supervision",
                TASK_DUE_SOON,
                f"task {task['item_code']} at {task['office']} nears its promised date",
            )
        if not task["overdue"] and datetime.fromisoformat(task["due"]) < now:
            task["overdue"] = True
            messages.append(supervision_event(workflow, task, TASK_OVERDUE, task["due"]))
            record(
                workflow,
                now,
                "supervision",
                TASK_OVERDUE,
                f"task {task['item_code']} at {task['office']} passed its promised date",
            )
        if not task["escalated"] and datetime.fromisoformat(task["legal_due"]) < now:
            task["escalated"] = True
            messages.append(supervision_event(workflow, task, TASK_ESCALATED, task["legal_due"]))
            record(
                workflow,
                now,
                "supervision",
                TASK_ESCALATED,
                f"task {task['item_code']} at {task['office']} passed its legal limit",
            )
    if not messages:
        before = workflow.get("watch_ts")
        set_watch(workflow)
        if workflow["watch_ts"] == before:
            return Outcome("duplicate")
    return finish(workflow, now, messages)


def set_watch(workflow):
    """watch_ts: when supervision must next look at this workflow (epoch s; None = never).

    overdue_count: open tasks flagged overdue (lets supervisors list them with one query).
    """
    moments = []
    acceptance = workflow.get("acceptance") or {}
    if workflow["status"] == "accepting" and not acceptance.get("overdue"):
        moments.append(datetime.fromisoformat(acceptance["due"]).timestamp())
    for task in workflow["tasks"].values():
        if task["state"] != "sent" or workflow["decision"] is not None:
            continue
        if not task["overdue"]:
            due = datetime.fromisoformat(task["due"])
            if not task.get("due_soon"):
                moments.append((due - DUE_SOON).timestamp())  # then warn that it nears
            moments.append(due.timestamp())
        elif not task["escalated"]:
            moments.append(datetime.fromisoformat(task["legal_due"]).timestamp())
    workflow["watch_ts"] = min(moments) if moments else None
    workflow["overdue_count"] = sum(
        1
        for t in workflow["tasks"].values()
        if t["overdue"] and t["state"] in ("sent",) and workflow["decision"] is None
    )


def acceptance_overdue_event(workflow):
    return {
        "kind": "event",
        "event_type": ACCEPTANCE_OVERDUE,
        "body": {
            "application_id": workflow["_id"],
            "scenario": workflow["scenario"],
            "region": workflow["region"],
            "channel": workflow["channel"],
            "limit": workflow["acceptance"]["due"],
            "submitted_at": workflow["submitted_at"],
        },
    }


def supervision_event(workflow, task, event_type, limit):
    return {
        "kind": "event",
        "event_type": event_type,
        "body": {
            "application_id": workflow["_id"],
            "task_id": task["task_id"],
            "scenario": workflow["scenario"],
            "item_code": task["item_code"],
            "department": task["department"],
            "office": task["office"],
            "region": task["region"],
            "limit": limit,
            "sent_at": task["sent_at"],
        },
    }


def task_views(workflow):
    return [
        {
            "task_id": t["task_id"],
            "item_code": t["item_code"],
            "item_name": t["item_name"],
            "department": t["department"],
            "office": t["office"],
            "region": t["region"],
            "level": t["level"],
            "state": t["state"],
            "reason": t["reason"],
            "depends_on": t["depends_on"],
            "due": t["due"],
            "sent_at": t["sent_at"],
            "decided_at": t["decided_at"],
            "requested_materials": t.get("requested_materials", []),
            "corrections": t.get("corrections", 0),
            "overdue": t.get("overdue", False),
            "fee": t.get("fee", 0),
            "payment": t.get("payment"),
        }
        for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])
    ]


def updated_event(workflow):
    # rev is the revision this write will carry (the service bumps it when persisting)
    return {
        "kind": "event",
        "event_type": APPLICATION_UPDATED,
        "body": {
            "application_id": workflow["_id"],
            "rev": workflow["rev"] + 1,
            "status": workflow["status"],
            "tasks": task_views(workflow),
            "decision": workflow["decision"],
            "due": workflow.get("due"),
            "acceptance": acceptance_view(workflow),
            "notices": workflow.get("notices", []),
        },
    }


def correction_event(workflow, task, now):
    """correction_requested: the applicant is asked to correct a task's materials (notify
    tells them; the status snapshot shows it too)."""
    return {
        "kind": "event",
        "event_type": CORRECTION_REQUESTED,
        "body": {
            "application_id": workflow["_id"],
            "task_id": task["task_id"],
            "item_code": task["item_code"],
            "item_name": task["item_name"],
            "department": task["department"],
            "reason": task["reason"],
            "requested_materials": list(task.get("requested_materials", [])),
            "corrections": task.get("corrections", 0),
            "requested_at": now.isoformat(),
        },
    }


def acceptance_view(workflow):
    """The acceptance step as the applicant sees it (None for a workflow stored before it)."""
    acceptance = workflow.get("acceptance")
    if acceptance is None:
        return None
    return {k: acceptance.get(k) for k in ("state", "due", "decided_at", "reasons", "overdue")}


def decided_event(workflow):
    return {
        "kind": "event",
        "event_type": APPLICATION_DECIDED,
        "body": {
            "application_id": workflow["_id"],
            "scenario": workflow["scenario"],
            "catalog_version": workflow["catalog_version"],
            "applicant": workflow["applicant"],
            "region": workflow["region"],
            "channel": workflow["channel"],
            "submitted_at": workflow["submitted_at"],
            "submitted_by": workflow.get("submitted_by"),
            "counter": workflow.get("counter"),
            "decision": workflow["decision"],
            "notices": workflow.get("notices", []),
            "tasks": [
                {
                    "task_id": t["task_id"],
                    "item_code": t["item_code"],
                    "item_name": t["item_name"],
                    "department": t["department"],
                    "region": t["region"],
                    "state": t["state"],
                    "license_type": t.get("license_type"),
                    "data": t["data"],
                    # the promised date (clock stopped during corrections) and when it was
                    # decided: feedback's published statistics count decisions on time
                    "due": t["due"],
                    "decided_at": t["decided_at"],
                }
                for t in sorted(workflow["tasks"].values(), key=lambda t: t["order"])
            ],
        },
    }


def reconcile(workflow, now):
    """The sweep's join repair: finish an application whose tasks are all decided."""
    workflow = editable(workflow)
    if workflow["decision"] is not None or combined_outcome(workflow["tasks"]) is None:
        return Outcome("duplicate")
    return finish(workflow, now, [])
