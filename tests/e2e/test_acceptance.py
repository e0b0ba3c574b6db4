"""Acceptance as a formal step (受理 / 不予受理), and the signed notices, end to end.

A mesh of its own runs with ACCEPTANCE=manual (the `hall_mesh` of conftest.py): applications wait in `accepting` until a
clerk of the hall of their region decides. Accepted, the departments decide as ever and the
applicant fetches the acceptance notice (受理通知书); refused, the application ends with the
refusal notice (不予受理通知书); a department's rejection gives the rejection decision
(不予许可决定书) with the applicant's rights of appeal. Every notice is signed with the
licences' key and verifies at /api/notices/verify; a changed one does not. The shared mesh
(ACCEPTANCE=auto, the default) is what the rest of the e2e suite runs on.
"""

import pytest

from tests.support.departments import wait_for

HALL = "/api/hall/applications"
APPLICANT = "430102199001011234"  # the sample applicant the client applies for


@pytest.fixture(scope="module")
def hall_client(hall_mesh):
    return hall_mesh.client()


def clerk(mesh, region="430100"):  # a clerk of Changsha's city hall: its counties too
    return mesh.as_("clerk", "clerk-0042", region=region)


def status_of(client, application_id, wanted):
    view = client.application(application_id).json()
    return view if view["status"] == wanted else None


def notices_of(mesh, application_id, count):
    response = mesh.get(
        f"/api/applications/{application_id}/notices", headers=mesh.as_("applicant", APPLICANT)
    )
    if response.status_code != 200 or len(response.json()["notices"]) < count:
        return None
    return response.json()["notices"]


def verify(mesh, notice):
    response = mesh.post("/api/notices/verify", json=notice)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_accepted_then_approved_then_decided_with_a_signed_acceptance_notice(
    hall_mesh, hall_client
):
    application_id = hall_client.apply("birth")
    view = wait_for(lambda: status_of(hall_client, application_id, "accepting"))
    assert view["acceptance"]["state"] == "pending" and view["acceptance"]["due"]
    assert all(t["state"] == "blocked" for t in view["tasks"])  # nothing went out

    listed = hall_mesh.get(HALL, headers=clerk(hall_mesh))
    assert listed.status_code == 200, listed.text
    assert application_id in {a["application_id"] for a in listed.json()["applications"]}
    elsewhere = clerk(hall_mesh, region="430200")  # Zhuzhou's hall: not its application
    assert application_id not in {
        a["application_id"] for a in hall_mesh.get(HALL, headers=elsewhere).json()["applications"]
    }
    path = f"{HALL}/{application_id}/acceptance"
    assert hall_mesh.post(path, headers=elsewhere, json={"decision": "accept"}).status_code == 404
    assert (
        hall_mesh.post(
            path, headers=hall_mesh.as_("applicant", APPLICANT), json={"decision": "accept"}
        ).status_code
        == 403
    )

    accepted = hall_mesh.post(path, headers=clerk(hall_mesh), json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["acceptance"]["state"] == "accepted"
    assert (
        hall_mesh.post(path, headers=clerk(hall_mesh), json={"decision": "accept"}).status_code
        == 409
    )

    decided = hall_client.wait_for_decision(application_id, timeout=60)
    assert decided["status"] == "approved"
    assert [n["kind"] for n in decided["notices"]] == ["acceptance"]
    (notice,) = wait_for(lambda: notices_of(hall_mesh, application_id, 1))
    assert notice["title_zh"] == "受理通知书" and notice["issued_by"] == "clerk-0042"
    assert notice["promised_due"] and notice["applicant"]["id_number"] == APPLICANT
    assert verify(hall_mesh, notice) == "valid"
    assert verify(hall_mesh, dict(notice, promised_due="2099-01-01")) == "forged"
    one = hall_mesh.get(
        f"/api/applications/{application_id}/notices/{notice['id']}",
        headers=hall_mesh.as_("applicant", APPLICANT),
    )
    assert one.status_code == 200 and one.json() == notice
    stranger = hall_mesh.as_("applicant", "430102199001019999")
    assert (
        hall_mesh.get(f"/api/applications/{application_id}/notices", headers=stranger).status_code
        == 404
    )
    history = hall_mesh.get(
        f"/api/applications/{application_id}/history", headers=hall_mesh.as_("supervisor")
    ).json()["history"]
    causes = [h["cause"] for h in history]
    assert causes.index("awaiting_acceptance") < causes.index("accepted")
    assert causes.index("accepted") < causes.index("dependencies_met")
    assert any(
        h["cause"] == "notice_issued" and f"{application_id}:acceptance" in h["transition"]
        for h in history
    )


def test_a_refusal_to_accept_ends_the_application_with_its_notice(hall_mesh, hall_client):
    application_id = hall_client.apply("birth")
    wait_for(lambda: status_of(hall_client, application_id, "accepting"))
    path = f"{HALL}/{application_id}/acceptance"
    without_reasons = hall_mesh.post(path, headers=clerk(hall_mesh), json={"decision": "refuse"})
    assert without_reasons.status_code == 400
    assert "reasons" in without_reasons.json()["fields"]
    refused = hall_mesh.post(
        path,
        headers=clerk(hall_mesh),
        json={"decision": "refuse", "reasons": ["申请事项不属于本机关职权范围"]},
    )
    assert refused.status_code == 200, refused.text

    view = hall_client.wait_for_decision(application_id, timeout=60)
    assert view["status"] == "not_accepted"
    assert view["decision"]["reasons"] == ["申请事项不属于本机关职权范围"]
    assert view["decision"]["appeal"]["reconsideration_days"] == 60
    assert {t["state"] for t in view["tasks"]} == {"cancelled"}
    (notice,) = wait_for(lambda: notices_of(hall_mesh, application_id, 1))
    assert notice["kind"] == "non_acceptance" and notice["title_zh"] == "不予受理通知书"
    assert notice["appeal"]["litigation_months"] == 6
    assert verify(hall_mesh, notice) == "valid"


def test_a_rejection_carries_its_reasons_and_the_appeal_notice(hall_mesh, hall_client):
    application_id = hall_client.apply("birth", name="Reject health")
    wait_for(lambda: status_of(hall_client, application_id, "accepting"))
    accepted = hall_mesh.post(
        f"{HALL}/{application_id}/acceptance", headers=clerk(hall_mesh), json={"decision": "accept"}
    )
    assert accepted.status_code == 200, accepted.text
    view = hall_client.wait_for_decision(application_id, timeout=60)
    assert view["status"] == "rejected"
    assert view["decision"]["appeal"] == {
        "reconsideration_days": 60,
        "litigation_months": 6,
        "text_zh": view["decision"]["appeal"]["text_zh"],
    }
    assert any("statutory conditions" in r for r in view["decision"]["reasons"])
    found = wait_for(lambda: notices_of(hall_mesh, application_id, 2))
    assert [n["kind"] for n in found] == ["acceptance", "rejection"]
    rejection = found[1]
    assert rejection["title_zh"] == "不予许可决定书"
    assert "行政复议" in rejection["appeal"]["text_zh"]
    assert "行政诉讼" in rejection["appeal"]["text_zh"]
    assert verify(hall_mesh, rejection) == "valid"
    assert verify(hall_mesh, dict(rejection, reasons=[])) == "forged"
