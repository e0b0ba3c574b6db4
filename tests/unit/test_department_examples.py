"""The example departments' rules give valid results (departments/examples, template)."""

import importlib.util
from pathlib import Path

import pytest
from nameko.testing.services import worker_factory

from departments.sdk.pika_worker import result_envelope

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = [
    "legal_rep_id_card",
    "articles_of_association",
    "premises_certificate",
    "name_declaration",
]


def load(relative, name):
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def task(
    item_code="HN-SJ-0001",
    department="market_regulation",
    materials=REQUIRED,
    enterprise_name="Changsha Example Trading Co.",
    inputs=None,
):
    return {
        "task_id": f"app1:{item_code}",
        "application_id": "app1",
        "scenario": "enterprise_startup",
        "item_code": item_code,
        "item_name": "Item",
        "department": department,
        "office": f"{department}.430100",
        "region": "430100",
        "level": "city",
        "applicant": {
            "kind": "enterprise",
            "name": "Example Co.",
            "id_number": "91430100MA4L0XXX1Y",
        },
        "form": {"enterprise_name": enterprise_name},
        "materials": [{"code": c, "file_id": "f1"} for c in materials],
        "inputs": inputs or {},
        "due": None,
    }


@pytest.fixture(scope="module")
def market_regulation():
    return load("departments/examples/pika-department/department.py", "example_pika_department")


def test_pika_example_asks_for_every_missing_material_at_once(market_regulation):
    answer = market_regulation.decide(task(materials=REQUIRED[:1]))
    assert answer["decision"] == "correction_required"
    assert answer["materials"] == REQUIRED[1:]
    result_envelope(task(), answer)


def test_pika_example_rejects_reserved_names_and_approves_the_rest(market_regulation):
    rejected = market_regulation.decide(task(enterprise_name="National Example Co."))
    assert rejected["decision"] == "rejected" and "National" in rejected["reason"]
    approved = market_regulation.decide(task())
    assert approved["decision"] == "approved"
    assert approved == market_regulation.decide(task())  # the same task, the same answer
    assert len(approved["data"]["business_licence_number"]) == 18
    result_envelope(task(), approved)


def test_nameko_example_uses_the_license_from_the_registration_task():
    service = load("departments/examples/nameko-department/service.py", "example_nameko_service")
    worker = worker_factory(service.TaxationDepartment)
    taxation = task(
        "HN-SW-0001",
        "taxation",
        inputs={"HN-SJ-0001": {"business_licence_number": "91430100ABCDEF1234"}},
    )
    answer = worker.decide(taxation)
    assert answer["decision"] == "approved"
    assert answer["data"]["business_licence_number"] == "91430100ABCDEF1234"
    result_envelope(taxation, answer)
    missing = worker.decide(task("HN-SW-0001", "taxation", inputs={"HN-SJ-0001": {}}))
    assert missing["decision"] == "rejected"


def test_template_answers_validly():
    template = load("departments/template/department.py", "template_department")
    answer = template.decide(task())
    assert answer == template.decide(task())
    result_envelope(task(), answer)
