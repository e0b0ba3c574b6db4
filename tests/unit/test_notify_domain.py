"""notify's rules: the templates table (every consumed event has a notice that renders in
Chinese, never with an identity number), the at-most-once identity of a notification,
channel choice and the checks on preferences."""

import re
from datetime import datetime, timezone

import pytest

from onestop.common.auth import Principal
from onestop.common.errors import Invalid
from onestop.contracts import events
from services.notify import domain

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ID_NUMBER = "110101199003074518"
APPLICANT = {"kind": "person", "id_number": ID_NUMBER, "name": "张三"}

SUBMITTED = {
    "application_id": "A-1",
    "scenario": "newborn",
    "catalog_version": 1,
    "applicant": APPLICANT,
    "region": "110101",
    "channel": "online",
    "form": {},
    "materials": [],
    "submitted_at": "2026-03-02T09:00:00+00:00",
}
CORRECTION = {
    "application_id": "A-1",
    "task_id": "A-1-t2",
    "item_code": "hukou_registration",
    "item_name": "户口登记",
    "department": "public_security",
    "reason": "照片不清晰",
    "requested_materials": ["photo"],
    "corrections": 0,
    "requested_at": "2026-03-03T09:00:00+00:00",
}
DECIDED = {
    "application_id": "A-1",
    "scenario": "newborn",
    "applicant": APPLICANT,
    "region": "110101",
    "channel": "online",
    "submitted_at": "2026-03-02T09:00:00+00:00",
    "decision": {"outcome": "approved", "decided_at": "2026-03-05T10:00:00+00:00"},
    "tasks": [],
}
LICENSE = {
    "license_id": "L-9",
    "license_type": "birth_certificate",
    "holder_id_number": ID_NUMBER,
    "application_id": "A-1",
    "at": "2026-03-05T10:00:01+00:00",
}
OVERDUE = {
    "application_id": "A-1",
    "task_id": "A-1-t1",
    "scenario": "newborn",
    "item_code": "HEALTH-001",
    "department": "health",
    "office": "health.110101",
    "region": "110101",
    "limit": "2026-03-04T09:00:00+00:00",
    "sent_at": "2026-03-02T09:00:01+00:00",
}
ACCEPTED = {
    "notice_id": "A-1:acceptance",
    "kind": "acceptance",
    "title_zh": "受理通知书",
    "application_id": "A-1",
    "scenario": "birth",
    "applicant": APPLICANT,
    "region": "110101",
    "issued_at": "2026-03-02T09:00:00+08:00",
    "issued_by": "hall",
    "reasons": [],
}
SAMPLES = {
    events.APPLICATION_SUBMITTED: SUBMITTED,
    events.NOTICE_ISSUED: ACCEPTED,
    events.CORRECTION_REQUESTED: CORRECTION,
    events.APPLICATION_DECIDED: DECIDED,
    events.LICENSE_ISSUED: LICENSE,
    events.TASK_OVERDUE: OVERDUE,
    events.TASK_ESCALATED: OVERDUE,
    events.TASK_DUE_SOON: OVERDUE,
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def applicant_of(application_id):
    return {"A-1": ID_NUMBER}.get(application_id)


def test_every_event_the_service_consumes_for_people_has_a_notice_and_no_other():
    assert domain.events_with_notices() == sorted(SAMPLES)


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_each_notice_renders_in_chinese_without_the_identity_number(event_type):
    made = domain.notices(event_type, SAMPLES[event_type], applicant_of)
    assert made, event_type
    for notice in made:
        assert CHINESE.search(notice["title"]) and CHINESE.search(notice["text"])
        assert ID_NUMBER not in notice["text"] + notice["title"] + notice["key"]
        assert "${" not in notice["text"]


def test_who_is_told_what():
    (submitted,) = domain.notices(events.APPLICATION_SUBMITTED, SUBMITTED, applicant_of)
    assert submitted["person"] == f"applicant:{ID_NUMBER}"
    assert submitted["text"].startswith("张三，您好：您的申请（编号 A-1）已于 2026-03-02 提交")
    (correction,) = domain.notices(events.CORRECTION_REQUESTED, CORRECTION, applicant_of)
    assert correction["notice"] == "correction_requested"
    assert "户口登记" in correction["text"] and "照片不清晰" in correction["text"]
    (accepted,) = domain.notices(events.NOTICE_ISSUED, ACCEPTED, applicant_of)
    assert accepted["notice"] == "application_accepted"
    assert (
        accepted["person"] == f"applicant:{ID_NUMBER}"
        and "已于 2026-03-02 受理" in accepted["text"]
    )
    refused = dict(ACCEPTED, notice_id="A-1:non_acceptance", kind="non_acceptance")
    assert [n["notice"] for n in domain.notices(events.NOTICE_ISSUED, refused, applicant_of)] == [
        "application_not_accepted"
    ]
    rejection = dict(ACCEPTED, notice_id="A-1:rejection", kind="rejection")
    assert domain.notices(events.NOTICE_ISSUED, rejection, applicant_of) == []  # told as decided
    (overdue,) = domain.notices(events.TASK_OVERDUE, OVERDUE, applicant_of)
    assert overdue["person"] == "office:health.110101"
    assert "2026-03-04" in overdue["text"]
    rejected = dict(DECIDED, decision={"outcome": "rejected", "decided_at": "2026-03-05T10:00"})
    (notice,) = domain.notices(events.APPLICATION_DECIDED, rejected, applicant_of)
    assert notice["notice"] == "application_rejected" and "不予许可" in notice["text"]


def test_no_notice_for_status_snapshots_or_withdrawn_decisions():
    snapshot = {"application_id": "A-1", "rev": 4, "status": "awaiting_correction", "tasks": []}
    assert domain.notices(events.APPLICATION_UPDATED, snapshot, applicant_of) == []
    withdrawn = dict(DECIDED, decision={"outcome": "withdrawn", "decided_at": "2026-03-05"})
    assert domain.notices(events.APPLICATION_DECIDED, withdrawn, applicant_of) == []


def test_a_new_correction_round_is_a_new_notice_the_same_round_is_not():
    first = domain.notices(events.CORRECTION_REQUESTED, CORRECTION, applicant_of)
    redelivered = dict(CORRECTION)  # the same round, its event delivered again
    assert domain.notices(events.CORRECTION_REQUESTED, redelivered, applicant_of) == first
    second_round = dict(CORRECTION, corrections=1, reason="缺少签字")
    (again,) = domain.notices(events.CORRECTION_REQUESTED, second_round, applicant_of)
    assert again["key"] != first[0]["key"]


def test_a_correction_before_the_submission_is_known_waits_transiently():
    with pytest.raises(domain.ApplicantNotYetKnown) as raised:
        domain.notices(events.CORRECTION_REQUESTED, CORRECTION, lambda application_id: None)
    assert isinstance(raised.value, ConnectionError)  # retried later, not dead-lettered


def test_a_template_field_the_payload_lacks_is_a_key_error():
    with pytest.raises(KeyError):
        domain.notices(events.TASK_OVERDUE, dict(OVERDUE, item_code=None), applicant_of)


def test_identity_numbers_are_masked_even_where_a_field_carries_one():
    leaky = dict(SUBMITTED, application_id=ID_NUMBER)
    (notice,) = domain.notices(events.APPLICATION_SUBMITTED, leaky, applicant_of)
    assert ID_NUMBER not in notice["text"] and "110*************18" in notice["text"]


def test_a_template_may_not_name_a_personal_field():
    table = """
notices:
  - {name: n, event: e, to: applicant, from: applicant.id_number, key: k, title: t,
     text: "证件号 ${applicant_id_number}"}
"""
    with pytest.raises(ValueError, match="personal"):
        domain.load_templates(table)
    with pytest.raises(ValueError, match="`to`"):
        domain.load_templates(table.replace("to: applicant", "to: everyone"))
    with pytest.raises(ValueError, match="missing"):
        domain.load_templates("notices: [{name: n, event: e}]")


def test_adding_an_event_is_one_entry():
    table = """
notices:
  - name: application_accepted
    event: application_accepted
    to: applicant
    from: application
    key: "${application_id}"
    title: 申请已受理
    text: "您的申请（编号 ${application_id}）已受理。"
"""
    made = domain.notices(
        "application_accepted",
        {"application_id": "A-1"},
        applicant_of,
        domain.load_templates(table),
    )
    assert [(n["person"], n["text"]) for n in made] == [
        (f"applicant:{ID_NUMBER}", "您的申请（编号 A-1）已受理。")
    ]


def test_one_notification_per_event_person_and_channel():
    (notice,) = domain.notices(events.APPLICATION_SUBMITTED, SUBMITTED, applicant_of)
    docs = domain.notifications(notice, {}, ["file", "push"], NOW)
    assert [d["channel"] for d in docs] == ["inbox", "push", "file"]
    again = domain.notifications(notice, {}, ["file", "push"], NOW)
    assert [d["_id"] for d in again] == [d["_id"] for d in docs]  # a replay: the same ids
    assert len({d["_id"] for d in docs}) == 3
    assert {d["state"] for d in docs} == {"delivered", "pending"}  # the inbox needs no delivery


def test_channels_follow_the_choice_and_what_is_offered():
    offered = ["sms", "file"]
    assert domain.channels_for(None, offered) == ["inbox", "sms", "file"]
    assert domain.channels_for({"channels": []}, offered) == ["inbox"]
    assert domain.channels_for({"channels": ["email", "sms"]}, offered) == ["inbox", "sms"]
    (notice,) = domain.notices(events.APPLICATION_SUBMITTED, SUBMITTED, applicant_of)
    no_phone = domain.notifications(notice, {"channels": ["sms"]}, offered, NOW)
    assert [d["channel"] for d in no_phone] == ["inbox"]
    with_phone = domain.notifications(
        notice, {"channels": ["sms"], "phone": "13800138000"}, offered, NOW
    )
    assert [(d["channel"], d["address"]) for d in with_phone][1] == ("sms", "13800138000")


def test_the_delivery_message_never_carries_the_identity_number():
    (notice,) = domain.notices(events.APPLICATION_SUBMITTED, SUBMITTED, applicant_of)
    (_, push_doc, file_doc) = domain.notifications(notice, {}, ["file", "push"], NOW)
    message = domain.delivery_message(file_doc)
    assert ID_NUMBER not in str(message)
    assert message["recipient"] == message["to"] == "applicant:110*************18"
    pushed = domain.delivery_message(push_doc)
    # the push gateway addresses the app's account; the text and recipient stay masked
    assert pushed["to"] == f"applicant:{ID_NUMBER}"
    assert ID_NUMBER not in pushed["text"] + pushed["title"] + pushed["recipient"]


def test_preferences_are_checked_per_field():
    with pytest.raises(Invalid) as raised:
        domain.checked_preferences({"channels": ["sms", "push"]}, ["sms", "file"])
    assert set(raised.value.fields) == {"channels", "phone"}
    assert "1" in raised.value.fields["channels"]  # push, the second one, is not offered
    chosen = domain.checked_preferences(
        {"channels": ["file", "sms"], "phone": "13800138000"}, ["sms", "file"]
    )
    assert chosen["channels"] == ["sms", "file"]


def test_whose_inbox_a_caller_reads():
    applicant = Principal("applicant", ID_NUMBER)
    assert domain.person_of_principal(applicant) == f"applicant:{ID_NUMBER}"
    officer = Principal("officer", "staff-1", office="health.110101")
    assert domain.person_of_principal(officer) == "office:health.110101"
    assert domain.person_of_principal(Principal("officer", "staff-2")) is None
