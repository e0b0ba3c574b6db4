"""What routing publishes fits the schemas its consumers load it with, and the fields they
read survive the load (docs/events.md)."""

from datetime import datetime, timezone

from onestop.common.working_days import WorkingCalendar
from onestop.contracts.events import (
    APPLICATION_DECIDED,
    APPLICATION_UPDATED,
    ApplicationDecidedSchema,
    ApplicationUpdatedSchema,
    load_event,
)
from services.routing import domain

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
CALENDAR = WorkingCalendar({"holidays": [], "workdays": []})
SUBMITTED = {
    "application_id": "app1",
    "scenario": "s",
    "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
    "region": "430102",
    "channel": "online",
    "form": {},
    "materials": [],
    "submitted_at": NOW.isoformat(),
}
PLAN = {
    "catalog_version": 3,
    "promised_days": 10,
    "tasks": [
        {
            "item_code": "A",
            "item_name": "A",
            "department": "a",
            "level": "county",
            "region": "430102",
            "office": "a.430102",
            "depends_on": [],
            "promised_days": 2,
            "legal_days": 5,
            "license_type": "permit",
        }
    ],
}


def decided_workflow():
    workflow, _ = domain.new_workflow(SUBMITTED, PLAN, NOW, CALENDAR)
    workflow["rev"] = 1
    result = {
        "task_id": "app1:A",
        "application_id": "app1",
        "department": "a",
        "decision": "approved",
        "reason": "",
        "data": {"reference_number": "R-1"},
    }
    return domain.apply_result(workflow, result, NOW, CALENDAR)


def published(outcome, event_type):
    return next(
        m["body"]
        for m in outcome.messages
        if m["kind"] == "event" and m["event_type"] == event_type
    )


def test_application_decided_carries_what_license_and_feedback_read():
    decided = load_event(
        ApplicationDecidedSchema,
        published(decided_workflow(), APPLICATION_DECIDED),
        APPLICATION_DECIDED,
    )
    assert decided["catalog_version"] == 3
    assert decided["decision"]["outcome"] == "approved" and decided["decision"]["decided_at"]
    assert decided["applicant"]["name"] == "A"
    task = decided["tasks"][0]
    assert (
        task["task_id"],
        task["item_code"],
        task["department"],
        task["region"],
        task["state"],
        task["license_type"],
        task["data"],
    ) == ("app1:A", "A", "a", "430102", "approved", "permit", {"reference_number": "R-1"})


def test_application_updated_fits_its_schema():
    updated = load_event(
        ApplicationUpdatedSchema,
        published(decided_workflow(), APPLICATION_UPDATED),
        APPLICATION_UPDATED,
    )
    assert updated["status"] == "approved" and updated["rev"] == 2


def test_an_application_decided_from_before_catalog_version_still_loads():
    body = dict(published(decided_workflow(), APPLICATION_DECIDED))
    del body["catalog_version"]
    assert (
        load_event(ApplicationDecidedSchema, body, APPLICATION_DECIDED)["catalog_version"] is None
    )
