"""The workflow rules without a broker or a store."""

from datetime import datetime, timezone

import pytest

from onestop.common.working_days import WorkingCalendar
from services.routing import domain

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
CALENDAR = WorkingCalendar({"holidays": [], "workdays": []})


def plan(*tasks):
    return {
        "catalog_version": 3,
        "promised_days": 10,
        "tasks": [
            {
                "item_code": code,
                "item_name": code,
                "department": dept,
                "level": "county",
                "region": "430102",
                "office": f"{dept}.430102",
                "depends_on": list(deps),
                "promised_days": 2,
                "legal_days": 5,
                "license_type": None,
            }
            for code, dept, deps in tasks
        ],
    }


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


def start(*tasks):
    workflow, messages = domain.new_workflow(SUBMITTED, plan(*tasks), NOW, CALENDAR)
    workflow["rev"] = 1
    return workflow, messages


def result(item, decision, department=None, reason=""):
    return {
        "task_id": f"app1:{item}",
        "application_id": "app1",
        "department": department or item.lower(),
        "decision": decision,
        "reason": reason,
        "data": {"reference_number": f"R-{item}"} if decision == "approved" else {},
    }


def sent_items(messages):
    return [
        m["body"]["payload"]["item_code"]
        for m in messages
        if m["kind"] == "amqp" and m["body"]["type"] == "approval_task"
    ]


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
    cancellations = [
        m["body"]["payload"]["task_id"]
        for m in outcome.messages
        if m["kind"] == "amqp" and m["body"]["type"] == "task_cancelled"
    ]
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


def correction(codes, task_ids=()):
    return {
        "application_id": "app1",
        "correction_id": "c1",
        "task_ids": list(task_ids),
        "materials": [{"code": c, "file_id": "f" * 32} for c in codes],
        "corrected_at": NOW.isoformat(),
    }


def ask(workflow, item, materials=("m1",), message_id=None, **kwargs):
    answer = dict(result(item, "correction_required"), materials=list(materials))
    outcome = domain.apply_result(workflow, answer, NOW, CALENDAR, message_id=message_id, **kwargs)
    if outcome.workflow is not None:
        outcome.workflow["rev"] = workflow["rev"] + 1
    return outcome


def test_correction_pauses_the_task_and_the_application_waits_while_others_go_on():
    workflow, _ = start(("A", "a", []), ("B", "b", []))
    outcome = ask(workflow, "A", ["m1"])
    tasks = outcome.workflow["tasks"]
    assert outcome.workflow["status"] == "awaiting_correction"
    assert tasks["A"]["state"] == "correction_required"
    assert tasks["A"]["requested_materials"] == ["m1"]
    assert sent_items(outcome.messages) == []
    after_b = step(outcome.workflow, "B", "approved")
    assert after_b.workflow["status"] == "awaiting_correction"
    assert after_b.workflow["decision"] is None


def test_a_correction_request_is_announced_with_its_task_reason_materials_and_round():
    workflow, _ = start(("A", "a", []), ("B", "b", []))
    outcome = ask(workflow, "A", ["m1"])
    (announced,) = [m for m in outcome.messages if m.get("event_type") == "correction_requested"]
    body = announced["body"]
    task = outcome.workflow["tasks"]["A"]
    assert (body["application_id"], body["task_id"]) == (workflow["_id"], task["task_id"])
    assert body["requested_materials"] == ["m1"] and body["corrections"] == 0
    assert body["item_name"] == task["item_name"] and body["requested_at"] == NOW.isoformat()
    # a result that asks for nothing announces nothing of the kind
    approved = step(outcome.workflow, "B", "approved")
    assert not [m for m in approved.messages if m.get("event_type") == "correction_requested"]


def test_a_correction_sends_only_the_asking_task_back_with_its_clock_extended():
    from datetime import timedelta

    workflow, _ = start(("A", "a", []), ("B", "b", []))
    asked = ask(workflow, "A", ["m1"]).workflow
    later = NOW + timedelta(days=7)  # Thursday to Thursday: 5 working days paused
    outcome = domain.apply_correction(asked, correction(["m1"]), later, CALENDAR)
    assert sent_items(outcome.messages) == ["A"]
    task = outcome.workflow["tasks"]["A"]
    assert task["state"] == "sent" and task["attempt"] == 2 and task["corrections"] == 1
    assert task["due"] == "2026-12-07T15:59:59+00:00"  # 30 Nov + 5 working days
    assert outcome.workflow["status"] == "in_review"
    assert {"code": "m1", "file_id": "f" * 32} in outcome.workflow["materials"]
    message = next(m for m in outcome.messages if m["kind"] == "amqp")
    assert message["body"]["payload"]["attempt"] == 2


def test_too_many_correction_rounds_reject_with_a_clear_reason():
    workflow, _ = start(("A", "a", []))
    for round_ in range(2):
        workflow = ask(workflow, "A", ["m1"], message_id=f"r{round_}").workflow
        workflow = domain.apply_correction(workflow, correction(["m1"]), NOW, CALENDAR).workflow
        workflow["rev"] += 1
    outcome = ask(workflow, "A", ["m1"], message_id="r3", max_corrections=2)
    assert outcome.workflow["status"] == "rejected"
    assert "correction limit" in outcome.workflow["tasks"]["A"]["reason"]


def test_a_replayed_correction_request_after_the_correction_changes_nothing():
    workflow, _ = start(("A", "a", []))
    asked = ask(workflow, "A", message_id="m-1").workflow
    corrected = domain.apply_correction(asked, correction(["m1"]), NOW, CALENDAR).workflow
    assert ask(corrected, "A", message_id="m-1").kind == "duplicate"


def test_withdrawal_cancels_open_tasks_and_a_late_result_is_recorded_and_ignored():
    workflow, _ = start(("A", "a", []), ("B", "b", ["A"]))
    outcome = domain.withdraw(workflow, NOW)
    assert outcome.workflow["status"] == "withdrawn"
    assert outcome.workflow["decision"]["outcome"] == "withdrawn"
    assert {t["state"] for t in outcome.workflow["tasks"].values()} == {"cancelled"}
    cancelled = [
        m["body"]["payload"]["task_id"]
        for m in outcome.messages
        if m["kind"] == "amqp" and m["body"]["type"] == "task_cancelled"
    ]
    assert cancelled == ["app1:A"]  # B was never sent: nobody to tell
    withdrawn = outcome.workflow
    withdrawn["rev"] = 2
    late = domain.apply_result(withdrawn, result("A", "approved"), NOW, CALENDAR, message_id="x")
    assert late.kind == "late" and late.messages == []
    assert late.workflow["history"][-1]["cause"] == "late_result"
    assert late.workflow["tasks"]["A"]["state"] == "cancelled"
    assert domain.withdraw(withdrawn, NOW).kind == "duplicate"


def test_withdrawal_after_the_decision_is_too_late():
    workflow, _ = start(("A", "a", []))
    decided = step(workflow, "A", "approved").workflow
    assert domain.withdraw(decided, NOW).kind == "late"


def test_supervision_flags_overdue_once_then_escalates_at_the_legal_limit():
    from datetime import timedelta

    workflow, _ = start(("A", "a", []), ("B", "b", []))
    assert domain.supervise(workflow, NOW + timedelta(days=1)).kind == "duplicate"
    overdue = domain.supervise(workflow, NOW + timedelta(days=5))  # past 30 Nov, before 3 Dec
    events = [m["event_type"] for m in overdue.messages if m["kind"] == "event"]
    assert events.count("task_overdue") == 2 and "task_escalated" not in events
    assert overdue.workflow["overdue_count"] == 2
    assert domain.supervise(overdue.workflow, NOW + timedelta(days=5)).kind == "duplicate"
    escalated = domain.supervise(overdue.workflow, NOW + timedelta(days=10))
    events = [m["event_type"] for m in escalated.messages if m["kind"] == "event"]
    assert events.count("task_escalated") == 2
    assert escalated.workflow["watch_ts"] is None


def supervision_events(outcome):
    return [m for m in outcome.messages if m.get("event_type", "").startswith("task_")]


def test_supervision_warns_once_a_day_before_the_promised_date_then_flags_overdue():
    from datetime import timedelta

    workflow, _ = start(("A", "a", []))
    due = datetime.fromisoformat(workflow["tasks"]["A"]["due"])
    assert workflow["watch_ts"] == (due - domain.DUE_SOON).timestamp()  # wakes for the warning
    assert domain.supervise(workflow, due - timedelta(days=2)).kind == "duplicate"
    near = domain.supervise(workflow, due - timedelta(hours=3))
    (warning,) = supervision_events(near)
    assert warning["event_type"] == "task_due_soon"
    assert warning["body"]["limit"] == workflow["tasks"]["A"]["due"]
    assert warning["body"]["office"] == workflow["tasks"]["A"]["office"]
    assert near.workflow["tasks"]["A"]["due_soon"] and not near.workflow["tasks"]["A"]["overdue"]
    assert near.workflow["watch_ts"] == due.timestamp()  # next: when it passes
    assert domain.supervise(near.workflow, due - timedelta(hours=1)).kind == "duplicate"
    late = domain.supervise(near.workflow, due + timedelta(hours=1))
    assert [m["event_type"] for m in supervision_events(late)] == ["task_overdue"]


def test_a_task_first_seen_past_its_promised_date_is_overdue_without_a_warning():
    from datetime import timedelta

    workflow, _ = start(("A", "a", []))
    due = datetime.fromisoformat(workflow["tasks"]["A"]["due"])
    late = domain.supervise(workflow, due + timedelta(hours=1))
    assert [m["event_type"] for m in supervision_events(late)] == ["task_overdue"]


def test_a_task_waiting_for_correction_is_not_overdue():
    from datetime import timedelta

    workflow, _ = start(("A", "a", []))
    asked = ask(workflow, "A").workflow
    assert asked["watch_ts"] is None
    assert domain.supervise(asked, NOW + timedelta(days=30)).kind == "duplicate"


def test_plan_tasks_carry_their_items_materials_to_departments():
    from services.catalog.domain import Catalog, load_data

    catalog = Catalog(load_data())
    plan_ = catalog.plan("birth", "430102")
    workflow, messages = domain.new_workflow(SUBMITTED, plan_, NOW, CALENDAR)
    first = next(m for m in messages if m["kind"] == "amqp")["body"]["payload"]
    assert first["item_materials"] == catalog.items[first["item_code"]]["materials"]


def test_the_audit_trail_names_who_decided_for_the_department_when_the_result_says():
    workflow, _ = start(("A", "a", []), ("B", "b", []))
    by_officer = dict(
        result("A", "correction_required"), materials=["id_card"], decided_by="officer-0042"
    )
    first = domain.apply_result(workflow, by_officer, NOW, CALENDAR)
    second = step(first.workflow, "B", "approved")
    entries = {
        h["cause"]: h
        for h in second.workflow["history"]
        if h["cause"] in ("correction_required", "approval_result")
    }
    assert entries["correction_required"]["by"] == "officer-0042"
    assert entries["correction_required"]["actor"] == "department:a"
    assert "by" not in entries["approval_result"]  # nobody named: no `by`


def test_the_decided_event_carries_each_tasks_promised_date_and_decision_time():
    """feedback's published statistics count a decision on time from these (issue 18)."""
    workflow, _ = start(("A", "a", []), ("B", "b", ["A"]))
    first = step(workflow, "A", "approved")
    rejected = step(first.workflow, "B", "rejected", reason="no")
    body = next(
        m["body"] for m in rejected.messages if m.get("event_type") == "application_decided"
    )
    tasks = {t["item_code"]: t for t in body["tasks"]}
    for code in ("A", "B"):
        stored = rejected.workflow["tasks"][code]
        assert tasks[code]["due"] == stored["due"] == "2026-11-30T15:59:59+00:00"
        assert tasks[code]["decided_at"] == stored["decided_at"] == NOW.isoformat()
    blocked_then_cancelled = step(start(("A", "a", []), ("B", "b", ["A"]))[0], "A", "rejected")
    body = next(
        m["body"]
        for m in blocked_then_cancelled.messages
        if m.get("event_type") == "application_decided"
    )
    never_sent = {t["item_code"]: t for t in body["tasks"]}["B"]
    assert never_sent["due"] is None and never_sent["decided_at"] == NOW.isoformat()


def test_late_results_for_a_cancelled_task_do_not_grow_the_workflow_without_bound():
    workflow, _ = start(("A", "a", []))
    workflow = domain.withdraw(workflow, NOW).workflow
    sizes = []
    for index in range(3 * domain.LATE_RESULTS_RECORDED):
        late = domain.apply_result(
            workflow, result("A", "approved"), NOW, CALENDAR, message_id=f"late-{index}"
        )
        assert late.kind == "late"
        workflow = late.workflow or workflow  # None: nothing to write
        sizes.append(len(workflow["history"]))
    recorded = [e for e in workflow["history"] if e["cause"] == "late_result"]
    assert len(recorded) == domain.LATE_RESULTS_RECORDED
    assert sizes[-1] == sizes[domain.LATE_RESULTS_RECORDED - 1]  # no growth after the cap
    assert workflow["tasks"]["A"]["late_results"] == domain.LATE_RESULTS_RECORDED
