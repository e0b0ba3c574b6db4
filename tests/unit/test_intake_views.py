"""What the applicant sees of an application, from the stored document alone."""

import pytest

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


def test_the_receipt_lists_what_was_received_the_promise_and_where_to_follow_it():
    stored = dict(
        doc(),
        channel="counter",
        counter={"region": "430102", "centre_code": "C1", "centre_name": "芙蓉区政务服务中心"},
        materials=[{"code": "M-A", "file_id": "f" * 32}, {"code": "M-B", "license_id": "L1"}],
        due="2026-12-10T23:59:59+08:00",
    )
    receipt = views.receipt(stored, "https://zwfw.example.cn/", "出生一件事")
    assert receipt["materials_received"] == [
        {"code": "M-A", "form": "upload"},
        {"code": "M-B", "form": "e_license"},
    ]
    assert receipt["promised_due"] == "2026-12-10T23:59:59+08:00"
    assert receipt["follow_up_url"] == "https://zwfw.example.cn/applications/a1"
    assert receipt["status_url"] == "/api/applications/a1"
    assert receipt["counter"]["centre_name"] == "芙蓉区政务服务中心"
    assert receipt["scenario_name"] == "出生一件事"
    # the printed receipt shows the ID number masked, never whole
    applicant = dict(stored["applicant"], id_number="430102199001011234")
    masked = views.receipt(dict(stored, applicant=applicant), "https://x.cn")["applicant"]
    assert masked == {"kind": "person", "name": "A", "id_number_masked": "430*************34"}


def test_an_applications_files_are_its_materials_as_submitted_and_as_corrected():
    stored = dict(
        doc(),
        materials=[{"code": "M-A", "file_id": "a" * 32}, {"code": "M-B", "license_id": "L1"}],
        corrected_materials={"c1": [{"code": "M-A", "file_id": "b" * 32}]},
    )
    assert views.attached_uploads(stored) == {"a" * 32, "b" * 32}
    assert views.attached_uploads(doc()) == set()


def test_a_counter_application_records_the_clerks_region_and_the_named_centre():
    from onestop.common.auth import Principal
    from onestop.common.errors import Invalid
    from services.intake import domain

    clerk = Principal("clerk", "clerk-7", region="430100")
    body = {
        "channel": "counter",
        "region": "430102",
        "applicant": {"id_number": "x"},
        "counter": {"centre_code": "C1", "centre_name": "长沙市政务服务中心", "window": None},
    }
    assert domain.counter_of(clerk, body) == {
        "region": "430100",
        "centre_code": "C1",
        "centre_name": "长沙市政务服务中心",
        "window": None,
        "clerk": "clerk-7",
    }
    assert domain.counter_of(Principal("clerk", "c"), dict(body, counter=None))["region"] == (
        "430102"
    )
    online = dict(body, channel="online", applicant={"id_number": "430102199001011234"})
    assert domain.counter_of(Principal("applicant", "430102199001011234"), online) is None
    with pytest.raises(Invalid):
        domain.check_submitter(Principal("applicant", "430102199001011234"), online)
