"""Acceptance (受理 / 不予受理), the formal notices and fees, as pure workflow rules."""

from datetime import timedelta

from services.routing import domain
from tests.unit.test_routing_domain import CALENDAR, NOW, SUBMITTED, plan, sent_items, step

TWO = (("A", "a", ()), ("B", "b", ()))


def manual(*tasks, days=2):
    workflow, messages = domain.new_workflow(
        SUBMITTED, plan(*tasks), NOW, CALENDAR, acceptance="manual", acceptance_days=days
    )
    workflow["rev"] = 1
    return workflow, messages


def notices(messages):
    return [m["body"] for m in messages if m.get("event_type") == "notice_issued"]


def test_in_manual_mode_nothing_goes_out_before_the_hall_accepts():
    workflow, messages = manual(*TWO)
    assert workflow["status"] == "accepting"
    assert sent_items(messages) == [] and notices(messages) == []
    assert workflow["acceptance"]["state"] == "pending"
    # the deadline is in working days: 2026-11-26 is a Thursday, two working days on is Monday
    assert workflow["acceptance"]["due"].startswith("2026-11-30")
    snapshot = messages[-1]["body"]
    assert snapshot["status"] == "accepting" and snapshot["acceptance"]["state"] == "pending"
    # a department's answer to a task never sent changes nothing
    assert step(workflow, "A", "approved").kind == "late"


def test_acceptance_sends_the_tasks_and_issues_a_signed_notice_to_be():
    workflow, _ = manual(*TWO)
    later = NOW + timedelta(days=1)
    outcome = domain.decide_acceptance(workflow, later, CALENDAR, "accept", "clerk-1")
    assert outcome.kind == "applied"
    accepted = outcome.workflow
    assert accepted["status"] == "in_review"
    assert sorted(sent_items(outcome.messages)) == ["A", "B"]
    (notice,) = notices(outcome.messages)
    assert notice["notice_id"] == "app1:acceptance" and notice["title_zh"] == "受理通知书"
    assert notice["issued_by"] == "clerk-1" and notice["promised_due"] == accepted["due"]
    # the promise counts from acceptance, not from submission
    assert accepted["due"] == CALENDAR.add_working_days(later, 10).isoformat()
    assert accepted["notices"] == [
        {
            "notice_id": "app1:acceptance",
            "kind": "acceptance",
            "title_zh": "受理通知书",
            "issued_at": later.isoformat(),
        }
    ]
    again = domain.decide_acceptance(accepted, later, CALENDAR, "accept", "clerk-2")
    assert again.kind == "duplicate" and again.workflow is None


def test_a_refusal_to_accept_ends_the_application_with_reasons_and_appeal_rights():
    workflow, _ = manual(*TWO)
    outcome = domain.decide_acceptance(
        workflow, NOW, CALENDAR, "refuse", "clerk-1", ["不属于本机关职权范围"]
    )
    refused = outcome.workflow
    assert refused["status"] == "not_accepted"
    assert {t["state"] for t in refused["tasks"].values()} == {"cancelled"}
    assert sent_items(outcome.messages) == []  # nothing was sent: no department to tell
    (notice,) = notices(outcome.messages)
    assert notice["kind"] == "non_acceptance" and notice["reasons"] == ["不属于本机关职权范围"]
    assert notice["appeal"]["reconsideration_days"] == 60
    assert notice["appeal"]["litigation_months"] == 6
    decision = refused["decision"]
    assert decision["outcome"] == "not_accepted"
    assert decision["reasons"] == ["不属于本机关职权范围"]
    assert decision["notices"] == ["app1:non_acceptance"]
    decided = [m for m in outcome.messages if m.get("event_type") == "application_decided"]
    assert decided and decided[0]["body"]["decision"]["outcome"] == "not_accepted"
    assert domain.decide_acceptance(refused, NOW, CALENDAR, "accept", "c").kind == "late"


def test_auto_mode_accepts_on_arrival_with_its_notice():
    workflow, messages = domain.new_workflow(SUBMITTED, plan(*TWO), NOW, CALENDAR)
    assert workflow["status"] == "in_review"
    assert workflow["acceptance"]["state"] == "accepted"
    assert workflow["acceptance"]["by"] == "auto"
    assert [n["kind"] for n in notices(messages)] == ["acceptance"]
    assert sorted(sent_items(messages)) == ["A", "B"]


def test_a_rejection_issues_its_decision_notice_with_reasons_and_appeal_rights():
    workflow, _ = domain.new_workflow(SUBMITTED, plan(*TWO), NOW, CALENDAR)
    workflow["rev"] = 1
    outcome = step(workflow, "A", "rejected", reason="材料虚假")
    (notice,) = notices(outcome.messages)
    assert notice["kind"] == "rejection" and notice["title_zh"] == "不予许可决定书"
    assert notice["reasons"] == ["A（a）：材料虚假"]
    assert "行政复议" in notice["appeal"]["text_zh"]
    decision = outcome.workflow["decision"]
    assert decision["outcome"] == "rejected" and decision["appeal"]["reconsideration_days"] == 60
    assert decision["notices"] == ["app1:acceptance", "app1:rejection"]
    approved = step(step(workflow, "A", "approved").workflow, "B", "approved")
    assert approved.workflow["decision"]["outcome"] == "approved"
    assert notices(approved.messages) == [] and "appeal" not in approved.workflow["decision"]


def test_supervision_flags_an_acceptance_past_its_deadline_once():
    workflow, _ = manual(*TWO, days=1)
    assert (
        workflow["watch_ts"]
        == domain.datetime.fromisoformat(workflow["acceptance"]["due"]).timestamp()
    )
    late = NOW + timedelta(days=3)
    outcome = domain.supervise(workflow, late)
    assert outcome.workflow["acceptance"]["overdue"] is True
    assert [m["event_type"] for m in outcome.messages if m["kind"] == "event"][0] == (
        "acceptance_overdue"
    )
    assert outcome.workflow["watch_ts"] is None
    assert domain.supervise(outcome.workflow, late).kind == "duplicate"


def test_a_withdrawal_while_awaiting_acceptance_ends_it_quietly():
    workflow, _ = manual(*TWO)
    outcome = domain.withdraw(workflow, NOW)
    assert outcome.workflow["status"] == "withdrawn"
    assert sent_items(outcome.messages) == []
    assert not [m for m in outcome.messages if m.get("kind") == "amqp"]


# -- fees -----------------------------------------------------------------------------
def with_fee(fee=9.0):
    p = plan(("A", "a", ()), ("B", "b", ("A",)))
    p["tasks"][0]["fee"] = fee
    workflow, _ = domain.new_workflow(SUBMITTED, p, NOW, CALENDAR)
    workflow["rev"] = 1
    return workflow


def payment(amount=9.0, receipt="PAY-1"):
    return {
        "task_id": "app1:A",
        "application_id": "app1",
        "department": "a",
        "amount": amount,
        "receipt_number": receipt,
    }


def test_an_approved_task_with_a_fee_waits_for_its_payment_and_the_clock_stops():
    workflow = with_fee()
    assert workflow["tasks"]["A"]["fee"] == 9.0
    waiting = step(workflow, "A", "approved").workflow
    assert waiting["tasks"]["A"]["state"] == "awaiting_payment"
    assert waiting["status"] == "awaiting_payment" and waiting["decision"] is None
    assert waiting["tasks"]["B"]["state"] == "blocked"  # later tasks wait for the payment
    assert waiting["watch_ts"] is None  # nothing of the department's is overdue meanwhile
    # three working days later (Thursday to the next Tuesday) the applicant pays
    later = NOW + timedelta(days=5)
    wrong = domain.apply_payment(waiting, payment(amount=8), later, CALENDAR)
    assert wrong.kind == "refused" and "does not match its fee of 9.0" in wrong.detail
    paid = domain.apply_payment(waiting, payment(), later, CALENDAR, message_id="m1")
    assert paid.kind == "applied"
    after = paid.workflow
    assert after["tasks"]["A"]["state"] == "approved"
    assert after["tasks"]["A"]["payment"]["receipt_number"] == "PAY-1"
    assert sent_items(paid.messages) == ["B"]
    assert after["status"] == "in_review"
    # the application's promise moved by the working days spent waiting on the applicant
    paused = CALENDAR.working_days_between(NOW, later)
    assert paused == 3
    assert (
        after["due"]
        == CALENDAR.add_working_days(
            domain.datetime.fromisoformat(workflow["due"]), paused
        ).isoformat()
    )
    after["rev"] = 2
    assert domain.apply_payment(after, payment(), later, CALENDAR).kind == "duplicate"


def test_an_approval_that_carries_its_payment_approves_at_once_and_free_items_skip_it():
    workflow = with_fee()
    approval = {
        "task_id": "app1:A",
        "application_id": "app1",
        "department": "a",
        "decision": "approved",
        "reason": "",
        "data": {},
    }
    result = dict(approval, payment={"amount": 9.0, "receipt_number": "PAY-2"})
    outcome = domain.apply_result(workflow, result, NOW, CALENDAR)
    assert outcome.workflow["tasks"]["A"]["state"] == "approved"
    assert outcome.workflow["tasks"]["A"]["payment"]["amount"] == 9.0
    short = dict(approval, payment={"amount": 1.0, "receipt_number": "PAY-3"})
    assert domain.apply_result(workflow, short, NOW, CALENDAR).kind == "refused"
    free = with_fee(fee=0)
    assert step(free, "A", "approved").workflow["tasks"]["A"]["state"] == "approved"


def test_a_rejection_elsewhere_cancels_a_task_awaiting_payment_and_tells_its_department():
    p = plan(("A", "a", ()), ("C", "c", ()))
    p["tasks"][0]["fee"] = 9.0
    workflow, _ = domain.new_workflow(SUBMITTED, p, NOW, CALENDAR)
    workflow["rev"] = 1
    waiting = step(workflow, "A", "approved").workflow
    waiting["rev"] = 2
    rejected = step(waiting, "C", "rejected", reason="no")
    assert rejected.workflow["tasks"]["A"]["state"] == "cancelled"
    cancelled = [
        m["body"]["payload"]["task_id"]
        for m in rejected.messages
        if m["kind"] == "amqp" and m["body"]["type"] == "task_cancelled"
    ]
    assert cancelled == ["app1:A"]
    assert rejected.workflow["decision"]["outcome"] == "rejected"
