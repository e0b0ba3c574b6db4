"""What routing shows over HTTP, computed from workflow documents: supervisors' overdue
tasks, an officer's open tasks, an application's history. No nameko, no pymongo; what the
caller may not see, or may not do, is a domain refusal (onestop/common/errors.py), which
the HTTP layer maps to its status.
"""

from onestop.common.auth import may_read_application
from onestop.common.errors import Conflicting, Invalid, Unknown
from services.routing import domain


def region_prefix(region):
    """The GB/T 2260 prefix of a region and everything below it ('' for none or Hunan)."""
    if not region:
        return ""
    return (
        region.rstrip("0")[:2]
        if region.endswith("0000")
        else (region[:4] if region.endswith("00") else region)
    )


def overdue_tasks(workflows, region=None, department=None):
    """Overdue tasks, grouped by department and region, oldest promise first; only those in
    `region` and the regions below it, and of `department` when one is named."""
    within = region_prefix(region)
    tasks = sorted(
        (
            {
                "application_id": workflow["_id"],
                "task_id": task["task_id"],
                "scenario": workflow["scenario"],
                "item_code": task["item_code"],
                "item_name": task["item_name"],
                "department": task["department"],
                "office": task["office"],
                "region": task["region"],
                "sent_at": task["sent_at"],
                "due": task["due"],
                "legal_due": task["legal_due"],
                "escalated": task["escalated"],
            }
            for workflow in workflows
            for task in workflow["tasks"].values()
            if task["overdue"]
            and task["state"] == "sent"
            and (not department or task["department"] == department)
            and task["region"].startswith(within)
        ),
        key=lambda t: t["due"],
    )
    groups = {}
    for task in tasks:
        groups.setdefault((task["department"], task["region"]), []).append(task)
    return {
        "total": len(tasks),
        "groups": [
            {"department": d, "region": r, "count": len(ts), "tasks": ts}
            for (d, r), ts in sorted(groups.items())
        ],
    }


def history(workflow, application_id, principal):
    """An application's history, for those who may read the application."""
    offices = {t["office"] for t in (workflow or {}).get("tasks", {}).values()}
    submitted_by = (workflow or {}).get("submitted_by")
    if workflow is None or not may_read_application(
        principal, workflow["applicant"]["id_number"], submitted_by, offices, workflow.get("region")
    ):
        raise Unknown(f"no workflow for application {application_id}")
    return {
        "application_id": application_id,
        "status": workflow["status"],
        "history": workflow["history"],
    }


def officer_task_view(workflow, task):
    """What an officer sees of one task: the task as a department receives it, and its state."""
    tasks = workflow["tasks"]
    return {
        **domain.task_identity(workflow, task),
        "state": task["state"],
        "sent_at": task["sent_at"],
        "due": task["due"],
        "attempt": task.get("attempt", 1),
        "fee": task.get("fee", 0),
        "applicant": workflow["applicant"],
        "channel": workflow["channel"],
        "form": workflow["form"],
        "materials": workflow["materials"],
        "inputs": {code: tasks[code]["data"] for code in task["depends_on"] if code in tasks},
    }


def officer_tasks(workflows, office):
    """The tasks awaiting `office`'s decision (state sent) or its confirmation of their fee's
    payment (state awaiting_payment), soonest due first."""
    tasks = [
        officer_task_view(workflow, task)
        for workflow in workflows
        for task in workflow["tasks"].values()
        if task["office"] == office and task["state"] in ("sent", "awaiting_payment")
    ]
    tasks.sort(key=lambda t: (t["due"] or "", t["task_id"]))
    return {"office": office, "total": len(tasks), "tasks": tasks}


def task_at_office(workflow, task_id, office):
    """The task of `workflow` named `task_id`, if it is `office`'s. Another office's task is
    unknown to its officers: whether it exists is not their business."""
    task = next(
        (t for t in (workflow or {}).get("tasks", {}).values() if t["task_id"] == task_id), None
    )
    if task is None or task["office"] != office:
        raise Unknown(f"no task {task_id} at office {office}")
    return task


def task_to_decide(workflow, task_id, office):
    """The task of `workflow` that an officer of `office` may decide now."""
    task = task_at_office(workflow, task_id, office)
    if task["state"] != "sent":
        raise Conflicting(f"task {task_id} is {task['state']}, not awaiting a decision")
    return task


def task_awaiting_payment(workflow, task_id, office):
    """The task of `workflow` whose payment an officer of `office` may confirm now."""
    task = task_at_office(workflow, task_id, office)
    if task["state"] != "awaiting_payment":
        raise Conflicting(f"task {task_id} is {task['state']}, not awaiting payment")
    return task


def already_applied(task, message_id):
    """Whether the decision `message_id` was applied to the task (a retried request)."""
    return bool(message_id) and message_id in task.get("seen", [])


def check_payment(task, payment):
    """The amount must be the task's fee: a 400 naming it otherwise."""
    if not domain.fee_matches(task, payment["amount"]):
        raise Invalid(
            "the amount is not the task's fee",
            fields={"amount": [domain.wrong_amount(task, payment["amount"])]},
        )


def check_requested_materials(task, decision):
    """A correction request names only materials of the item's standard list: a 400 naming
    each one that is not (the seed: no additional materials)."""
    if decision["decision"] != "correction_required":
        return
    messages = {
        str(index): [domain.extra_materials_message(task, code)]
        for index, code in enumerate(decision["materials"])
        if domain.extra_materials(task, [code])
    }
    if messages:
        raise Invalid(
            "a correction may ask only for materials on the item's standard list",
            fields={"materials": messages},
        )


def within_region(principal, workflow):
    """A hall clerk acts for the applications of their region and the regions below it."""
    return bool(principal.region) and workflow["region"].startswith(region_prefix(principal.region))


def acceptance_listing(workflows, principal):
    """The applications awaiting the clerk's hall's acceptance, soonest due first."""
    waiting = [
        {
            "application_id": w["_id"],
            "scenario": w["scenario"],
            "region": w["region"],
            "channel": w["channel"],
            "applicant": {"kind": w["applicant"]["kind"], "name": w["applicant"]["name"]},
            "submitted_at": w["submitted_at"],
            "materials": w["materials"],
            "items": [
                {"item_code": t["item_code"], "item_name": t["item_name"]}
                for t in sorted(w["tasks"].values(), key=lambda t: t["order"])
            ],
            "acceptance": domain.acceptance_view(w),
        }
        for w in workflows
        if within_region(principal, w)
    ]
    waiting.sort(key=lambda a: (a["acceptance"]["due"], a["application_id"]))
    return {"region": principal.region, "total": len(waiting), "applications": waiting}


def application_to_accept(workflow, application_id, principal):
    """The workflow a clerk may decide acceptance of now: 404 outside their region, 409 when
    it is not awaiting acceptance."""
    if workflow is None or not within_region(principal, workflow):
        raise Unknown(f"no application {application_id} in region {principal.region}")
    if workflow["status"] != "accepting":
        raise Conflicting(f"application {application_id} is {workflow['status']}, not accepting")
    return workflow


def acceptance_answer(workflow):
    return {
        "application_id": workflow["_id"],
        "status": workflow["status"],
        "acceptance": domain.acceptance_view(workflow),
        "notices": workflow.get("notices", []),
    }
