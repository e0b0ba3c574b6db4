"""Officers of departments without an integration decide by hand, through the gateway.

The reference health consumer leaves applicants named "Hold health" to an officer, so
their health task waits at its office. Only an officer of that office sees it and can
decide it; the decision travels as the department's result and decides the application.
"""

import json
import uuid
from pathlib import Path

import pytest

from onestop.common import auth
from ops.runner import development_tokens
from tests.support.departments import wait_for

HEALTH_ITEM = "HN-WJ-0001"
TASKS = "/api/officer/tasks"


def key_of(mesh):
    return mesh.env["AUTH_SIGNING_KEY"]  # the key the test mesh verifies tokens with


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def held_health_task(client, application_id):
    view = client.application(application_id).json()
    task = next((t for t in view.get("tasks", []) if t["item_code"] == HEALTH_ITEM), None)
    return task if task and task["state"] == "sent" else None


@pytest.fixture
def held(client):
    application_id = client.apply("birth", name="Hold health")
    task = wait_for(lambda: held_health_task(client, application_id))
    return dict(task, application_id=application_id)


@pytest.fixture
def officer_of(mesh):
    def mint(office, role="officer", sub="officer-0001"):
        return bearer(auth.mint(role, sub, key=key_of(mesh), office=office))

    return mint


def listed(mesh, headers):
    response = mesh.get(TASKS, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def decide(mesh, task_id, headers, **body):
    return mesh.post(f"{TASKS}/{task_id}/decision", headers=headers, json=body)


def test_an_officer_sees_and_decides_only_their_offices_tasks(client, mesh, held, officer_of):
    office = held["office"]
    mine = officer_of(office)
    region = office.rsplit(".", 1)[1]
    elsewhere = officer_of(f"public_security.{region}")

    tasks = listed(mesh, mine)
    assert tasks["office"] == office
    task = next(t for t in tasks["tasks"] if t["task_id"] == held["task_id"])
    assert task["application_id"] == held["application_id"]
    assert task["applicant"]["name"] == "Hold health" and task["state"] == "sent"
    assert task["materials"] and "form" in task
    assert all(t["office"] == office for t in tasks["tasks"])
    assert held["task_id"] not in {t["task_id"] for t in listed(mesh, elsewhere)["tasks"]}

    # another office's officer cannot even learn that the task exists
    assert decide(mesh, held["task_id"], elsewhere, decision="approved").status_code == 404
    assert (
        decide(mesh, f"{uuid.uuid4().hex}:{HEALTH_ITEM}", mine, decision="approved").status_code
        == 404
    )

    accepted = decide(
        mesh, held["task_id"], mine, decision="approved", data={"reference_number": "BY-HAND-1"}
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "submitted"
    view = client.wait_for_decision(held["application_id"], timeout=60)
    assert view["status"] == "approved"
    # the audit trail names the officer who decided; the consumers' answers name nobody
    history = mesh.get(f"/api/applications/{held['application_id']}/history", headers=mine)
    assert history.status_code == 200, history.text
    results = [h for h in history.json()["history"] if h["cause"] == "approval_result"]
    by_officer = [h for h in results if HEALTH_ITEM in h["transition"]]
    assert [h.get("by") for h in by_officer] == ["officer-0001"]
    assert all("by" not in h for h in results if h not in by_officer)
    assert (
        decide(mesh, held["task_id"], mine, decision="rejected", reason="too late").status_code
        == 409
    )
    assert held["task_id"] not in {t["task_id"] for t in listed(mesh, mine)["tasks"]}


def test_an_officers_rejection_decides_the_application(client, mesh, held, officer_of):
    response = decide(
        mesh,
        held["task_id"],
        officer_of(held["office"]),
        decision="rejected",
        reason="the birth was registered in another province",
    )
    assert response.status_code == 202, response.text
    view = client.wait_for_decision(held["application_id"], timeout=60)
    assert view["status"] == "rejected"
    health = next(t for t in view["tasks"] if t["item_code"] == HEALTH_ITEM)
    assert health["reason"] == "the birth was registered in another province"


def test_bad_decisions_get_per_field_messages(mesh, held, officer_of):
    headers = officer_of(held["office"])
    cases = [
        ({}, "decision"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": "rejected"}, "reason"),
        ({"decision": "correction_required", "reason": "unreadable"}, "materials"),
        ({"decision": "approved", "extra": 1}, "extra"),
        ({"decision": "approved", "data": []}, "data"),
    ]
    for body, field in cases:
        response = mesh.post(f"{TASKS}/{held['task_id']}/decision", headers=headers, json=body)
        assert response.status_code == 400, (body, response.text)
        assert field in response.json()["fields"], (body, response.json())
    not_json = mesh.post(
        f"{TASKS}/{held['task_id']}/decision",
        data="decision=approved",
        headers=dict(headers, **{"Content-Type": "text/plain"}),
    )
    assert not_json.status_code == 415


def test_without_an_officers_token_the_api_answers_401_or_403(mesh, held, officer_of):
    key = key_of(mesh)
    path = f"{TASKS}/{held['task_id']}/decision"
    unauthenticated = [
        {},
        {"Authorization": "Basic b2ZmaWNlcjpwdw=="},
        bearer("garbage"),
        bearer(
            auth.mint("officer", "o", key="5e" * 32, office=held["office"])
        ),  # not the mesh's key
        bearer(auth.mint("officer", "o", key=key, office=held["office"], ttl_seconds=-1)),
    ]
    for headers in unauthenticated:
        for response in (
            mesh.get(TASKS, headers=headers),
            mesh.post(path, headers=headers, json={"decision": "approved"}),
        ):
            assert response.status_code == 401, (headers, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["error"] == "unauthorized"
    for role, claims in (
        ("applicant", {}),
        ("clerk", {"region": "430102"}),
        ("supervisor", {}),
        ("operator", {}),
    ):
        headers = bearer(auth.mint(role, "430102199001011234", key=key, **claims))
        assert mesh.get(TASKS, headers=headers).status_code == 403
        assert mesh.post(path, headers=headers, json={"decision": "approved"}).status_code == 403
    assert held_still_open(mesh, held, officer_of)


def held_still_open(mesh, held, officer_of):
    return held["task_id"] in {
        t["task_id"] for t in listed(mesh, officer_of(held["office"]))["tasks"]
    }


def test_the_development_officer_make_run_prints_finds_the_samples_held_task(mesh, held):
    """README: apply for a birth as `Hold health`, then list tasks with the officer token
    `make run` printed. That officer's office must be where the samples' task waits."""
    printed = development_tokens(key=key_of(mesh))["officer"]
    tasks = listed(mesh, bearer(printed))["tasks"]
    assert held["task_id"] in {t["task_id"] for t in tasks}


def test_a_retried_decision_with_its_idempotency_key_decides_once(client, mesh, held, officer_of):
    """routing applies an officer's decision itself (docs/adr/0029): sent again with the same
    Idempotency-Key, the same answer and one decision; without the key, a 409."""
    headers = dict(officer_of(held["office"]), **{"Idempotency-Key": "decision-1"})
    body = {"decision": "approved", "data": {"reference_number": "BY-HAND-2"}}
    first = decide(mesh, held["task_id"], headers, **body)
    assert first.status_code == 202, first.text
    again = decide(mesh, held["task_id"], headers, **body)
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    assert client.wait_for_decision(held["application_id"], timeout=60)["status"] == "approved"
    history = mesh.get(f"/api/applications/{held['application_id']}/history", headers=headers)
    decided = [
        h
        for h in history.json()["history"]
        if h["cause"] == "approval_result" and HEALTH_ITEM in h["transition"]
    ]
    assert len(decided) == 1 and decided[0]["by"] == "officer-0001"
    # the same key with another decision is not a retry: the task is decided, a 409
    other = decide(mesh, held["task_id"], headers, decision="rejected", reason="不符合条件")
    assert other.status_code == 409, other.text
    plain = officer_of(held["office"])
    assert decide(mesh, held["task_id"], plain, **body).status_code == 409
    too_long = dict(plain, **{"Idempotency-Key": "k" * 129})
    assert decide(mesh, held["task_id"], too_long, **body).status_code == 400


def processes_of(mesh, module_args):
    """(pid, environment) of this mesh's processes (its DATA_DIR) whose command line ends
    with `module_args`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        env = dict(e.decode(errors="replace").split("=", 1) for e in environ if b"=" in e)
        if env.get("DATA_DIR") == mesh.env["DATA_DIR"] and args[-len(module_args) :] == module_args:
            found.append((int(proc.name), env))
    return found


def test_routings_process_holds_no_department_credentials(mesh):
    """The running routing process (as `make run` starts it) has neither the departments'
    secret nor their URIs; the department consumers have their URIs."""
    [(_, routing)] = processes_of(mesh, ["onestop.run_service", "routing"])
    assert "BROKER_USERS_SECRET" not in routing and "DEPARTMENT_AMQP_URIS" not in routing
    assert "department." not in routing["AMQP_URI"]
    [(_, departments)] = processes_of(mesh, ["onestop.run_service", "departments-nameko"])
    assert json.loads(departments["DEPARTMENT_AMQP_URIS"])
