"""What the applicant sees of an application, from the stored document alone."""

from services.intake import views


def doc(*tasks):
    return {
        "_id": "a1",
        "scenario": "birth",
        "catalog_version": 1,
        "status": "awaiting_correction",
        "channel": "online",
        "region": "430102",
        "applicant": {"kind": "person", "name": "A", "id_number": "x"},
        "submitted_at": "2026-11-26T09:00:00+00:00",
        "materials": [],
        "tasks": list(tasks),
    }


def task(code, department, state, requested=(), reason=""):
    return {
        "task_id": f"a1:{code}",
        "item_code": code,
        "item_name": code,
        "department": department,
        "state": state,
        "requested_materials": list(requested),
        "reason": reason,
    }


def test_the_one_time_notice_lists_every_departments_requests_at_once():
    view = views.application_view(
        doc(
            task("I1", "health", "correction_required", ["M-A", "M-B"], "unreadable"),
            task("I2", "public_security", "sent"),
            task("I3", "medical_security", "correction_required", ["M-B", "M-C"], "expired"),
        )
    )
    notice = view["correction_notice"]
    assert notice["materials"] == ["M-A", "M-B", "M-C"]
    assert [r["department"] for r in notice["requests"]] == ["health", "medical_security"]
    assert notice["requests"][1]["reason"] == "expired"
    assert notice["message_zh"].endswith("M-A、M-B、M-C")


def test_no_notice_while_nothing_is_asked():
    assert views.application_view(doc(task("I1", "health", "sent")))["correction_notice"] is None
