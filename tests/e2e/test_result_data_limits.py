"""Attack (issue 14): free-form result `data` that the store cannot hold, or should not.

An oversized, too deeply nested or MongoDB-unsafe `data` used to fail the store write of
the whole batch of results it was applied with, sending the other departments' results to
the dead-letter queue too. Now the boundary refuses it: a department's message is
dead-lettered alone with the reason, an officer gets a 400 on `data`, and the task's own
good answer still decides the application."""

import json

from onestop.contracts.envelope import make_envelope
from onestop.contracts.messages import ResultData
from tests.e2e.test_department_boundary import dead_letters, health_task
from tests.e2e.test_officer_api import TASKS, bearer
from tests.support.departments import MeshDepartments, wait_for

BAD_DATA = {
    "oversized": {"scan": "x" * (ResultData.MAX_BYTES + 1)},
    "too_deep": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}},
    "operator_key": {"$where": "sleep(1000)"},
    "dotted_key": {"ok": {".hidden": 1}},
    "nul_key": {"a\u0000b": 1},
}


def result(task, data):
    return make_envelope(
        "approval_result",
        task["application_id"],
        {
            "task_id": task["task_id"],
            "application_id": task["application_id"],
            "department": "health",
            "decision": "approved",
            "data": data,
        },
    )


def test_bad_result_data_is_refused_alone_and_the_good_answer_lands(client, mesh, tmp_path):
    application_id = client.apply("birth", name="Hold health")
    task = wait_for(lambda: health_task(client, application_id))
    # the officer API: a 400 on `data`, nothing published
    officer = bearer(mesh.token("officer", "officer-0001", office=task["office"]))
    for name, data in BAD_DATA.items():
        response = mesh.post(
            f"{TASKS}/{task['task_id']}/decision",
            headers=officer,
            json={"decision": "approved", "data": data},
        )
        assert response.status_code == 400, (name, response.text)
        assert list(response.json()["fields"]) == ["data"], (name, response.json())

    # the department boundary: every bad message, then the good one, back to back
    departments = MeshDepartments.of(mesh)
    bad = {name: result(task, data) for name, data in BAD_DATA.items()}
    for body in bad.values():
        departments.publish_result(body, "health")
    good = result(task, {"certificate_number": "HN-2026-000123", "checks": [{"ok": True}]})
    departments.publish_result(good, "health")

    view = client.wait_for_decision(application_id)
    assert view["status"] == "approved"
    decided = next(t for t in view["tasks"] if t["task_id"] == task["task_id"])
    assert decided["state"] == "approved"

    expected = {body["message_id"]: name for name, body in bad.items()}
    reasons, discarded = {}, tmp_path / "discarded.jsonl"
    wait_for(
        lambda: (
            reasons.update(dead_letters(mesh.amqp_uri, set(expected) - set(reasons), discarded))
            or len(reasons) == len(expected)
        )
    )
    for message_id, name in expected.items():
        assert "bad approval_result payload" in reasons[message_id], name
        assert "data" in reasons[message_id], name
    dead = {json.loads(line)["id"] for line in discarded.read_text().splitlines()}
    assert good["message_id"] not in dead  # only the bad ones
