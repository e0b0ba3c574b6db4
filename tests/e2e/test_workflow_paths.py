"""Correction, withdrawal and supervision, through the running mesh (issue 4)."""

import time

import pytest

from tests.support.mesh import Mesh, reset_vhost, PORT_BASE, TEST_VHOST
from tests.support.polling import wait_for

DAY = 86400


def wait_for_status(client, application_id, statuses, timeout=30):
    def reached():
        view = client.application(application_id).json()
        return view if view["status"] in statuses else None

    return wait_for(reached, f"{application_id} to become one of {statuses}", timeout)


def test_correction_goes_back_to_the_asking_department_only_then_approves(client, mesh):
    application_id = client.apply("enterprise_startup", name="Correct taxation")
    view = wait_for_status(client, application_id, {"awaiting_correction"})
    asking = [t for t in view["tasks"] if t["state"] == "correction_required"]
    assert [t["department"] for t in asking] == ["taxation"]
    assert asking[0]["requested_materials"] and "illegible" in asking[0]["reason"]

    own = client.upload(token=client._owners[application_id])  # the enterprise's own upload
    wrong = client.post_as_owner(
        application_id,
        "corrections",
        {"materials": [{"code": "eia_report", "file_id": own}]},
    )
    assert wrong.status_code == 400 and "missing" in wrong.json()["fields"]["materials"]

    supplied = [{"code": code, "file_id": own} for code in asking[0]["requested_materials"]]
    response = client.post_as_owner(application_id, "corrections", {"materials": supplied})
    assert response.status_code == 202, response.text
    assert response.json()["tasks"] == [asking[0]["task_id"]]

    view = client.wait_for_decision(application_id)
    assert view["status"] == "approved"
    tasks = {t["department"]: t for t in view["tasks"]}
    assert tasks["taxation"]["corrections"] == 1
    assert all(t["corrections"] == 0 for d, t in tasks.items() if d != "taxation")
    causes = [
        h["cause"]
        for h in mesh.get(
            f"/api/applications/{application_id}/history",
            headers=mesh.as_("applicant", "91430100MA4L0XXX1Y"),
        ).json()["history"]
    ]
    assert causes.count("correction_required") == 1
    assert causes.count("application_corrected") == 1


def test_endless_corrections_end_in_a_rejection_with_the_reason(client, mesh):
    application_id = client.apply("birth", name="Correct twice health")
    for round_ in range(2):
        view = wait_for_status(client, application_id, {"awaiting_correction"})
        asked = next(t for t in view["tasks"] if t["state"] == "correction_required")
        assert asked["corrections"] == round_
        client.post_as_owner(
            application_id,
            "corrections",
            {
                "materials": [
                    {"code": c, "file_id": client.upload()} for c in asked["requested_materials"]
                ]
            },
        )
        deadline = time.monotonic() + 30
        while client.application(application_id).json()["tasks"][0]["corrections"] == round_:
            assert time.monotonic() < deadline, "the correction was not applied"
            time.sleep(0.1)
    view = client.wait_for_decision(application_id)
    assert view["status"] == "rejected"
    health = next(d for d in view["decision"]["departments"] if d["department"] == "health")
    assert "correction limit" in health["reason"]


def test_withdrawal_cancels_open_tasks_and_is_final(client, mesh):
    application_id = client.apply("construction_permit", name="Hold natural_resources")
    view = wait_for_status(client, application_id, {"in_review"})
    assert any(t["state"] == "sent" for t in view["tasks"])
    response = client.post_as_owner(application_id, "withdraw", {"reason": "project postponed"})
    assert response.status_code == 202, response.text
    view = client.wait_for_decision(application_id)
    assert view["status"] == "withdrawn"
    assert {t["state"] for t in view["tasks"]} <= {"cancelled", "approved"}
    assert any(t["reason"] == "project postponed" for t in view["tasks"])
    again = client.post_as_owner(application_id, "withdraw", {})
    assert again.status_code == 409
    correction = client.post_as_owner(
        application_id, "corrections", {"materials": [{"code": "x", "file_id": "0" * 32}]}
    )
    assert correction.status_code == 409


def test_unknown_application_paths_are_404_not_500(mesh):
    bodies = {"withdraw": {}, "corrections": {"materials": [{"code": "x", "file_id": "0" * 32}]}}
    for path, body in bodies.items():
        response = mesh.post(
            f"/api/applications/{'f' * 32}/{path}", json=body, headers=mesh.as_("applicant")
        )
        assert response.status_code == 404, (path, response.text)


@pytest.fixture(scope="module")
def time_mesh(tmp_path_factory):
    """A mesh of its own whose clock the test moves (CLOCK_OFFSET_FILE)."""
    data = tmp_path_factory.mktemp("time-mesh")
    clock_file = data / "clock-offset"
    clock_file.write_text("0")
    running = Mesh(
        data,
        reset_vhost(f"{TEST_VHOST}_time"),
        port_base=PORT_BASE + 100,
        extra_env={"CLOCK_OFFSET_FILE": str(clock_file), "SUPERVISION_INTERVAL_SECONDS": "0.5"},
    ).start()
    running.clock_file = clock_file
    yield running
    running.stop()


def test_supervision_flags_an_unanswered_task_overdue_and_lists_it(time_mesh):
    client = time_mesh.client()
    application_id = client.apply("birth", name="Hold health")
    wait_for_status(client, application_id, {"in_review"})
    assert (
        time_mesh.get("/api/supervision/overdue", headers=time_mesh.as_("supervisor")).json()[
            "total"
        ]
        == 0
    )

    time_mesh.clock_file.write_text(str(14 * DAY))  # two weeks later: past the promise
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listing = time_mesh.get(
            "/api/supervision/overdue", headers=time_mesh.as_("supervisor")
        ).json()
        if listing["total"]:
            break
        time.sleep(0.2)
    group = listing["groups"][0]
    assert (group["department"], group["region"], group["count"]) == ("health", "430102", 1)
    assert group["tasks"][0]["application_id"] == application_id
    view = client.application(application_id).json()
    assert view["tasks"][0]["overdue"] is True
    metrics = __import__("requests").get(time_mesh.service_url("routing") + "/metrics").text
    assert 'routing_supervision_events_total{department="health",event="overdue"} 1.0' in metrics
