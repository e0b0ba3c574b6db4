"""Tests of your rules, without a broker: `python -m pytest`."""

from departments.sdk.pika_worker import result_envelope

import department

TASK = {
    "task_id": "3b1f6c0d2e8a4f7b9c5d1e3f5a7b9c1d:HN-SJ-0001",
    "application_id": "3b1f6c0d2e8a4f7b9c5d1e3f5a7b9c1d",
    "scenario": "enterprise_startup",
    "item_code": "HN-SJ-0001",
    "item_name": "Business licence",
    "department": "market_regulation",
    "office": "market_regulation.430100",
    "region": "430100",
    "level": "city",
    "applicant": {"kind": "enterprise", "id_number": "91430100MA4L0XXX1Y", "name": "Example Co."},
    "form": {},
    "materials": [],
    "inputs": {},
    "due": None,
}


def test_every_answer_is_a_valid_result():
    answer = department.decide(TASK)
    envelope = result_envelope(TASK, answer)  # raises if the contract would refuse it
    assert envelope["payload"]["decision"] in ("approved", "rejected", "correction_required")


def test_the_same_task_gets_the_same_answer():
    assert department.decide(dict(TASK)) == department.decide(dict(TASK))
