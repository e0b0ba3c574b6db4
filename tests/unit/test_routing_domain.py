"""The workflow rules without a broker or a store."""
from datetime import datetime, timezone

import pytest

from onestop.catalog.calendar import WorkingCalendar
from onestop.routing import domain

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
CALENDAR = WorkingCalendar({"holidays": [], "workdays": []})


def plan(*tasks):
    return {"catalog_version": 3, "promised_days": 10, "tasks": [
        {"item_code": code, "item_name": code, "department": dept, "level": "county",
         "region": "430102", "office": f"{dept}.430102", "depends_on": list(deps),
         "promised_days": 2, "legal_days": 5, "license_type": None}
        for code, dept, deps in tasks]}


SUBMITTED = {"application_id": "app1", "scenario": "s", "applicant": {"kind": "person",
             "id_number": "430102199001011234", "name": "A"}, "region": "430102",
             "channel": "online", "form": {}, "materials": [], "submitted_at": NOW.isoformat()}


def start(*tasks):
    workflow, messages = domain.new_workflow(SUBMITTED, plan(*tasks), NOW, CALENDAR)
    workflow["rev"] = 1
    return workflow, messages


def result(item, decision, department=None, reason=""):
    return {"task_id": f"app1:{item}", "application_id": "app1",
            "department": department or item.lower(), "decision": decision, "reason": reason,
            "data": {"reference_number": f"R-{item}"} if decision == "approved" else {}}


def sent_items(messages):
    return [m["body"]["payload"]["item_code"] for m in messages
            if m["kind"] == "amqp" and m["body"]["type"] == "approval_task"]


def step(workflow, item, decision, **kwargs):
    outcome = domain.apply_result(workflow, result(item, decision, **kwargs), NOW, CALENDAR)
    if outcome.workflow is not None:
        outcome.workflow["rev"] = workflow["rev"] + 1
    return outcome


def test_only_tasks_without_dependencies_go_out_first():
    workflow, messages = start(("A", "a", []), ("B", "b", ["A"]), ("C", "c", []))
    assert sent_items(messages) == ["A", "C"]
    assert workflow["tasks"]["B"]["state"] == "blocked"
    assert workflow["status"] == "in_review"


def test_a_task_goes_out_when_all_it_depends_on_are_approved_with_their_data():
    workflow, _ = start(("A", "a", []), ("B", "b", []), ("C", "c", ["A", "B"]))
    first = step(workflow, "A", "approved")
    assert sent_items(first.messages) == []
    second = step(first.workflow, "B", "approved")
    assert sent_items(second.messages) == ["C"]
    task = next(m for m in second.messages if m["kind"] == "amqp")["body"]["payload"]
    assert task["inputs"] == {"A": {"reference_number": "R-A"}, "B": {"reference_number": "R-B"}}


def test_approved_only_when_every_task_is_approved():
    workflow, _ = start(("A", "a", []), ("B", "b", []))
    first = step(workflow, "A", "approved")
    assert first.workflow["decision"] is None
    second = step(first.workflow, "B", "approved")
    assert second.workflow["status"] == "approved"
    events = [m["event_type"] for m in second.messages if m["kind"] == "event"]
    assert events.count("application_decided") == 1


def test_a_rejection_cancels_open_and_blocked_tasks_and_tells_only_those_that_received_one():
    workflow, _ = start(("A", "a", []), ("B", "b", []), ("C", "c", ["A"]))
    outcome = step(workflow, "B", "rejected", reason="wrong address")
    tasks = outcome.workflow["tasks"]
    assert [tasks[k]["state"] for k in "ABC"] == ["cancelled", "rejected", "cancelled"]
    cancellations = [m["body"]["payload"]["task_id"] for m in outcome.messages
                     if m["kind"] == "amqp" and m["body"]["type"] == "task_cancelled"]
    assert cancellations == ["app1:A"]
    decision = outcome.workflow["decision"]
    assert decision["outcome"] == "rejected"
    assert {d["item_code"]: d["reason"] for d in decision["departments"]}["B"] == "wrong address"


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_the_same_result_twice_changes_nothing(decision):
    workflow, _ = start(("A", "a", []), ("B", "b", []))
    first = step(workflow, "A", decision)
    again = step(first.workflow, "A", decision)
    assert again.kind == "duplicate" and again.workflow is None and again.messages == []


def test_a_contradicting_late_result_is_ignored():
    workflow, _ = start(("A", "a", []), ("B", "b", []))
    first = step(workflow, "A", "approved")
    late = step(first.workflow, "A", "rejected")
    assert late.kind == "late"


def test_unknown_task_and_never_sent_task_change_nothing():
    workflow, _ = start(("A", "a", []), ("B", "b", ["A"]))
    assert step(workflow, "Z", "approved").kind == "unknown"
    assert step(workflow, "B", "approved").kind == "late"


def test_a_department_cannot_decide_another_departments_task():
    workflow, _ = start(("A", "a", []))
    assert step(workflow, "A", "approved", department="b").kind == "refused"


def test_apply_result_does_not_mutate_its_input():
    workflow, _ = start(("A", "a", []))
    step(workflow, "A", "approved")
    assert workflow["tasks"]["A"]["state"] == "sent"


def test_reconcile_finishes_a_workflow_whose_tasks_are_all_decided():
    workflow, _ = start(("A", "a", []))
    workflow["tasks"]["A"]["state"] = "approved"  # as if the decision write was lost
    outcome = domain.reconcile(workflow, NOW)
    assert outcome.kind == "applied" and outcome.workflow["status"] == "approved"
    assert domain.reconcile(outcome.workflow, NOW).kind == "duplicate"


def test_task_deadline_is_counted_in_working_days_from_the_day_after_sending():
    workflow, _ = start(("A", "a", []))
    # Thursday 26 Nov 2026 + 2 working days = Monday 30 Nov, end of day in China time
    assert workflow["tasks"]["A"]["due"] == "2026-11-30T15:59:59+00:00"
