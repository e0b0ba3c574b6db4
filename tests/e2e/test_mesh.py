"""One application in, one combined decision out, through all five services."""

import time
import uuid

import pytest

from onestop.client import sample_application

SCENARIOS = ["birth", "enterprise_startup", "construction_permit"]


@pytest.mark.parametrize("code", SCENARIOS)
def test_each_scenario_is_approved_with_licenses(client, mesh, code):
    scenario = client.scenario(code)
    application_id = client.apply(code)

    view = client.wait_for_decision(application_id)

    assert view["status"] == "approved"
    assert view["decision"]["outcome"] == "approved"
    assert {t["item_code"] for t in view["tasks"]} == {
        i["code"] for i in scenario["items"] if not i["optional"]
    }
    assert all(t["state"] == "approved" for t in view["tasks"])
    holder = sample_application(scenario, "0" * 32)["applicant"]["id_number"]
    expected = {i["code"] for i in scenario["items"] if i["license_type"] and not i["optional"]}
    issued = client.wait_for_licenses(holder, application_id, len(expected))
    assert {lic["item_code"] for lic in issued} == expected and expected


def test_dependencies_are_respected(client, mesh):
    application_id = client.apply("construction_permit")
    view = client.wait_for_decision(application_id)
    tasks = {t["item_code"]: t for t in view["tasks"]}
    for task in tasks.values():
        for dependency in task["depends_on"]:
            assert tasks[dependency]["decided_at"] <= task["sent_at"], (dependency, task)


def test_a_rejection_cancels_the_undecided_and_explains(client, mesh):
    application_id = client.apply("birth", name="Reject public_security")

    view = client.wait_for_decision(application_id)

    assert view["status"] == "rejected"
    outcomes = {d["item_code"]: d for d in view["decision"]["departments"]}
    assert outcomes["HN-WJ-0001"]["outcome"] == "approved"
    assert outcomes["HN-GA-0001"]["outcome"] == "rejected"
    assert "public_security" in outcomes["HN-GA-0001"]["reason"]
    # the items that depended on the rejected one never went out, and are cancelled
    assert outcomes["HN-YB-0001"]["outcome"] == "cancelled"
    assert outcomes["HN-RS-0001"]["outcome"] == "cancelled"
    history = mesh.get(
        f"/api/applications/{application_id}/history", headers=mesh.as_("applicant")
    ).json()["history"]
    assert [h["cause"] for h in history].count("combined_decision") == 1
    # no licence comes from a rejected application
    wallet = mesh.get(
        "/api/licenses", params={"holder": "430102199001011234"}, headers=mesh.as_("applicant")
    ).json()
    assert not [lic for lic in wallet["licenses"] if lic["application_id"] == application_id]


def test_same_idempotency_key_gives_the_same_application(client):
    scenario = client.scenario("birth")
    body = sample_application(scenario, client.upload())
    key = uuid.uuid4().hex
    first = client.submit(body, key)
    second = client.submit(body, key)
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    changed = dict(body, channel="mobile")
    assert client.submit(changed, key).status_code == 409


def test_bad_input_gets_per_field_messages(client):
    scenario = client.scenario("birth")
    body = sample_application(scenario, client.upload())
    body.update(region="999999", channel="fax", unexpected=1)
    body["form"].pop("child_name")
    body["materials"] = body["materials"][1:]
    response = client.submit(body)
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) >= {"channel", "unexpected"}

    body = sample_application(scenario, client.upload())
    body["region"] = "999999"
    body["form"].pop("child_name")
    body["materials"] = body["materials"][1:]
    fields = client.submit(body).json()["fields"]
    assert "region" in fields
    assert "child_name" in fields["form"]
    assert fields["materials"]["missing"]


def test_review_of_a_decided_application(client, mesh):
    """More in test_feedback.py: who may review what, follow-ups, rectification."""
    application_id = client.apply("birth")
    client.wait_for_decision(application_id)
    path = f"/api/applications/{application_id}/reviews"
    body = {
        "applicant_id": "430102199001011234",
        "level": "very_satisfied",
        "channel": "online",
        "comment": "fast",
    }
    review = mesh.post(path, json=body, headers=mesh.as_("applicant"))
    deadline = time.monotonic() + 30
    while review.status_code == 404 and time.monotonic() < deadline:  # decision on its way
        time.sleep(0.1)
        review = mesh.post(path, json=body, headers=mesh.as_("applicant"))
    assert review.status_code == 201, review.text
    assert (review.json()["level"], review.json()["score"]) == ("very_satisfied", 5)
    again = mesh.post(
        path, json=dict(body, level="very_dissatisfied"), headers=mesh.as_("applicant")
    )
    assert again.status_code == 409
    unknown = mesh.post(
        f"/api/applications/{uuid.uuid4().hex}/reviews", json=body, headers=mesh.as_("applicant")
    )
    assert unknown.status_code == 404
    bad = mesh.post(path, json=dict(body, level=9), headers=mesh.as_("applicant"))
    assert bad.status_code == 400 and "level" in bad.json()["fields"]


def test_licenses_verify_and_forgeries_do_not(client, mesh):
    application_id = client.apply("enterprise_startup")
    client.wait_for_decision(application_id)
    license = client.wait_for_licenses("91430100MA4L0XXX1Y", application_id, 1)[0]
    assert mesh.post("/api/licenses/verify", json=license).json()["result"] == "valid"
    forged = dict(license, holder=dict(license["holder"], name="Someone Else"))
    assert mesh.post("/api/licenses/verify", json=forged).json()["result"] == "forged"
