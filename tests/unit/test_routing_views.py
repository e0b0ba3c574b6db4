"""What routing's HTTP API shows, from workflow documents alone, and what it refuses."""

from datetime import datetime, timezone

import pytest

from onestop.common.auth import Principal
from onestop.common.errors import Conflicting, Invalid, Unknown
from onestop.common.working_days import WorkingCalendar
from services.routing import domain, views

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
CALENDAR = WorkingCalendar({"holidays": [], "workdays": []})


def workflow(application_id, *tasks):
    plan = {
        "catalog_version": 1,
        "promised_days": 10,
        "tasks": [
            {
                "item_code": code,
                "item_name": code,
                "department": department,
                "level": "county",
                "region": region,
                "office": f"{department}.{region}",
                "depends_on": [],
                "promised_days": 2,
                "legal_days": 5,
                "license_type": None,
            }
            for code, department, region in tasks
        ],
    }
    submitted = {
        "application_id": application_id,
        "scenario": "s",
        "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
        "region": "430102",
        "channel": "online",
        "form": {},
        "materials": [],
        "submitted_at": NOW.isoformat(),
    }
    return domain.new_workflow(submitted, plan, NOW, CALENDAR)[0]


def overdue(doc, code, due):
    doc["tasks"][code].update(overdue=True, due=due)
    return doc


@pytest.mark.parametrize(
    "region, prefix", [(None, ""), ("430000", "43"), ("430100", "4301"), ("430102", "430102")]
)
def test_a_region_covers_the_regions_below_it(region, prefix):
    assert views.region_prefix(region) == prefix


def test_overdue_tasks_are_grouped_oldest_promise_first_within_the_supervisors_region():
    docs = [
        overdue(workflow("a1", ("A", "health", "430102")), "A", "2026-11-20"),
        overdue(
            workflow("a2", ("A", "health", "430102"), ("B", "police", "430202")), "A", "2026-11-10"
        ),
        overdue(workflow("a3", ("B", "police", "430202")), "B", "2026-11-15"),
    ]
    docs[1]["tasks"]["B"]["overdue"] = True
    docs[1]["tasks"]["B"]["due"] = "2026-11-01"

    seen = views.overdue_tasks(docs, "430100")

    assert seen["total"] == 2
    [group] = seen["groups"]
    assert (group["department"], group["region"], group["count"]) == ("health", "430102", 2)
    assert [t["application_id"] for t in group["tasks"]] == ["a2", "a1"]
    everywhere = views.overdue_tasks(docs, None, department="police")
    assert [t["application_id"] for t in everywhere["groups"][0]["tasks"]] == ["a2", "a3"]


def test_an_officer_decides_only_a_task_of_their_office_that_awaits_a_decision():
    doc = workflow("a1", ("A", "health", "430102"), ("B", "police", "430102"))
    assert views.task_to_decide(doc, "a1:A", "health.430102")["item_code"] == "A"
    with pytest.raises(Unknown):
        views.task_to_decide(doc, "a1:B", "health.430102")  # another office's: not theirs
    with pytest.raises(Unknown):
        views.task_to_decide(None, "zz:A", "health.430102")
    doc["tasks"]["A"]["state"] = "approved"
    with pytest.raises(Conflicting):
        views.task_to_decide(doc, "a1:A", "health.430102")


def test_an_officer_sees_the_open_tasks_of_their_office():
    docs = [workflow("a1", ("A", "health", "430102"), ("B", "police", "430102"))]
    seen = views.officer_tasks(docs, "police.430102")
    assert (seen["office"], seen["total"]) == ("police.430102", 1)
    assert seen["tasks"][0]["task_id"] == "a1:B"


def test_a_history_is_unknown_to_whoever_may_not_read_the_application():
    doc = workflow("a1", ("A", "health", "430102"))
    owner = Principal(role="applicant", sub="430102199001011234")
    assert views.history(doc, "a1", owner)["status"] == "in_review"
    with pytest.raises(Unknown):
        views.history(doc, "a1", Principal(role="applicant", sub="someone else"))
    with pytest.raises(Unknown):
        views.history(None, "a1", owner)


def test_an_officers_correction_names_only_the_items_standard_materials():
    task = {"item_code": "HN-WJ-0001", "materials": ["M-ID", "M-BIRTH"]}
    asked = {"decision": "correction_required", "materials": ["M-ID", "M-EXTRA", "M-OTHER"]}
    with pytest.raises(Invalid) as refused:
        views.check_requested_materials(task, asked)
    messages = refused.value.fields["materials"]
    assert sorted(messages) == ["1", "2"]
    assert "M-EXTRA is not on the standard list of item HN-WJ-0001" in messages["1"][0]
    assert "M-ID, M-BIRTH" in messages["2"][0]
    views.check_requested_materials(task, dict(asked, materials=["M-BIRTH"]))
    views.check_requested_materials(task, {"decision": "approved", "materials": ["M-EXTRA"]})


def test_an_officer_confirms_only_the_fee_of_their_offices_task_awaiting_payment():
    task = {"task_id": "a1:X", "office": "civil_affairs.430102", "state": "awaiting_payment"}
    flow = {"tasks": {"X": dict(task, fee=9.0)}}
    found = views.task_awaiting_payment(flow, "a1:X", "civil_affairs.430102")
    views.check_payment(found, {"amount": 9})
    with pytest.raises(Invalid) as wrong:
        views.check_payment(found, {"amount": 8.5})
    assert "does not match its fee of 9.0" in wrong.value.fields["amount"][0]
    with pytest.raises(Unknown):
        views.task_awaiting_payment(flow, "a1:X", "health.430102")
    flow["tasks"]["X"]["state"] = "approved"
    with pytest.raises(Conflicting):
        views.task_awaiting_payment(flow, "a1:X", "civil_affairs.430102")
