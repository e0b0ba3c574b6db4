"""Acceptance (受理 / 不予受理) and the formal notices, as pure workflow rules."""

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
