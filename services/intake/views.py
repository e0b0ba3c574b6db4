"""What the API shows of stored applications. Pure functions over the stored document."""

from onestop.common.logs import mask


def status_url(application_id):
    return f"/api/applications/{application_id}"


def accepted(doc):
    """The answer to an accepted (or idempotently replayed) application."""
    return {"id": doc["_id"], "status": doc["status"], "status_url": status_url(doc["_id"])}


def application_summary(doc):
    """One line of a list of applications."""
    decision = doc.get("decision") or {}
    return {
        "id": doc["_id"],
        "scenario": doc["scenario"],
        "catalog_version": doc["catalog_version"],
        "status": doc["status"],
        "channel": doc["channel"],
        "region": doc["region"],
        "applicant": {"kind": doc["applicant"]["kind"], "name": doc["applicant"]["name"]},
        "submitted_at": doc["submitted_at"],
        "outcome": decision.get("outcome"),
        "decided_at": decision.get("decided_at"),
        "status_url": status_url(doc["_id"]),
    }


def application_list(query, docs, more):
    """A page of the list: the summaries and where the next page starts (None at the end)."""
    return {
        "limit": query["limit"],
        "offset": query["offset"],
        "next_offset": query["offset"] + len(docs) if more else None,
        "applications": [application_summary(d) for d in docs],
    }


def application_view(doc):
    """The applicant-facing status: tasks with their item, department, state and reason."""
    return {
        "id": doc["_id"],
        "scenario": doc["scenario"],
        "catalog_version": doc["catalog_version"],
        "status": doc["status"],
        "channel": doc["channel"],
        "counter": doc.get("counter"),
        "region": doc["region"],
        "applicant": {"kind": doc["applicant"]["kind"], "name": doc["applicant"]["name"]},
        "submitted_at": doc["submitted_at"],
        "promised_due": doc.get("due"),
        "optional_items": doc.get("optional_items", []),
        "materials": doc["materials"],
        "tasks": doc.get("tasks", []),
        "correction_notice": correction_notice(doc.get("tasks", [])),
        "acceptance": doc.get("acceptance"),
        "notices": [
            dict(n, url=f"{status_url(doc['_id'])}/notices/{n['notice_id']}")
            for n in doc.get("notices", [])
        ],
        "decision": doc.get("decision"),
    }


def receipt(doc, base_url, scenario_name=None):
    """The receipt (回执) handed over at the counter, or shown online: the application number,
    the package, the materials received, the promised date once routing set it, and where to
    follow it (the URL a QR code on the printed receipt carries)."""
    return {
        "application_id": doc["_id"],
        "scenario": doc["scenario"],
        "scenario_name": scenario_name,
        "channel": doc["channel"],
        "counter": doc.get("counter"),
        "applicant": {
            "kind": doc["applicant"]["kind"],
            "name": doc["applicant"]["name"],
            # printed on the receipt, masked as in the logs (first 3 and last 2 shown)
            "id_number_masked": mask(doc["applicant"]["id_number"]),
        },
        "region": doc["region"],
        "submitted_at": doc["submitted_at"],
        "materials_received": [
            {
                "code": m["code"],
                "form": "e_license" if m.get("license_id") else "upload",
            }
            for m in doc["materials"]
        ],
        "status": doc["status"],
        "acceptance": doc.get("acceptance"),
        "promised_due": doc.get("due"),
        # the applicant's page on the screens (sign-in first), which a phone opens from the
        # printed QR code; the API's status path beside it for other clients
        "follow_up_url": f"{base_url.rstrip('/')}/applications/{doc['_id']}",
        "status_url": status_url(doc["_id"]),
    }


def attached_uploads(doc):
    """The upload ids an application names: its materials as submitted and as corrected."""
    corrected = [m for ms in (doc.get("corrected_materials") or {}).values() for m in ms]
    return {m["file_id"] for m in [*doc["materials"], *corrected] if m.get("file_id")}


def correction_notice(tasks):
    """The one-time notice (一次性告知): every material every department asked for, at once,
    with who asked and why; None while nothing is asked."""
    waiting = [t for t in tasks if t.get("state") == "correction_required"]
    if not waiting:
        return None
    materials = []
    for task in waiting:
        for code in task.get("requested_materials", []):
            if code not in materials:
                materials.append(code)
    return {
        "materials": materials,
        "requests": [
            {
                "task_id": t.get("task_id"),
                "item_code": t.get("item_code"),
                "item_name": t.get("item_name"),
                "department": t.get("department"),
                "materials": t.get("requested_materials", []),
                "reason": t.get("reason", ""),
            }
            for t in waiting
        ],
        "message_zh": "请一次性补正以下全部材料：" + "、".join(materials),
    }


def correction_accepted(corrected):
    return {
        "id": corrected["application_id"],
        "correction_id": corrected["correction_id"],
        "tasks": corrected["task_ids"],
        "status_url": status_url(corrected["application_id"]),
    }


def withdrawal_accepted(application_id):
    return {"id": application_id, "status_url": status_url(application_id)}
