"""Impersonation fails at the department boundary of the running mesh.

The health department's task of a birth application is held open (the reference
health consumer leaves "Hold health" applicants to an officer); other parties then
try to decide it. Each attempt is refused by routing (dead-lettered with the reason,
counted) or by the broker, the task stays open, and health's own answer decides it.
"""

import json
import uuid

import pytest
import requests
from amqp.exceptions import AccessRefused, PreconditionFailed
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from onestop.contracts.envelope import make_envelope
from ops.dead_letters import DeadLetterQueue
from tests.support.departments import MeshDepartments, publish, wait_for

HEALTH_ITEM = "HN-WJ-0001"


def refused_counts(mesh):
    text = requests.get(mesh.service_url("routing") + "/metrics", timeout=10).text
    return {
        s.labels["reason"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "routing_results_refused_total"
    }


def result(task, department, decision="approved"):
    return make_envelope(
        "approval_result",
        task["application_id"],
        {
            "task_id": task["task_id"],
            "application_id": task["application_id"],
            "department": department,
            "decision": decision,
            "reason": "",
            "data": {"reference_number": "FORGED"} if decision == "approved" else {},
        },
    )


def health_task(client, application_id):
    view = client.application(application_id).json()
    task = next((t for t in view.get("tasks", []) if t["item_code"] == HEALTH_ITEM), None)
    if task is None or task["state"] != "sent":
        return None
    return dict(
        task,
        application_id=application_id,
        task_id=task.get("task_id") or f"{application_id}:{HEALTH_ITEM}",
    )


def dead_letters(amqp_uri, message_ids, into):
    """message_id -> reason of the given messages on approval.dead, as the operators' tool
    shows them; those found are discarded into the file `into` (others stay)."""
    found = {}
    with DeadLetterQueue(amqp_uri) as queue:
        for letter in queue.walk():
            if letter.id in message_ids:
                found[letter.id] = letter.reason
                queue.discard(letter, into)
    return found


@pytest.fixture
def held_task(client, mesh):
    application_id = client.apply("birth", name="Hold health")
    return wait_for(lambda: health_task(client, application_id))


def test_only_the_tasks_department_can_decide_it(client, mesh, held_task, tmp_path):
    departments = MeshDepartments.of(mesh)
    before = refused_counts(mesh)
    attempts = {
        # public security's user speaking for health
        "impersonation": result(held_task, "health"),
        # public security's user answering health's task in its own name
        "foreign_task": result(held_task, "public_security"),
    }
    for body in attempts.values():
        departments.publish_result(body, "public_security")
    # the platform's own administrator, without a department's user_id
    unauthenticated = result(held_task, "health")
    publish(mesh.amqp_uri, unauthenticated, "health")
    # the broker itself refuses a forged user_id and another department's routing key
    with pytest.raises(PreconditionFailed):
        departments.publish_result(
            result(held_task, "health"), "public_security", user_id=departments.user("health")
        )
    with pytest.raises(AccessRefused):
        departments.publish_result(
            result(held_task, "health"), "public_security", routing_department="health"
        )

    expected = {
        attempts["impersonation"]["message_id"]: "impersonation",
        attempts["foreign_task"]["message_id"]: "foreign_task",
        unauthenticated["message_id"]: "unauthenticated",
    }
    reasons = {}
    discarded = tmp_path / "discarded.jsonl"
    wait_for(
        lambda: (
            reasons.update(dead_letters(mesh.amqp_uri, set(expected) - set(reasons), discarded))
            or len(reasons) == len(expected)
        )
    )
    for message_id, reason in expected.items():
        assert f"result refused ({reason})" in reasons[message_id]
    kept = {record["id"]: record for record in map(json.loads, discarded.read_text().splitlines())}
    assert set(kept) == set(expected)
    # the sender each refused result came with is on record, and where it failed
    assert kept[attempts["impersonation"]["message_id"]]["sender"] == departments.user(
        "public_security"
    )
    assert {record["queue"] for record in kept.values()} == {"routing.results"}
    after = refused_counts(mesh)
    for reason in expected.values():
        assert after.get(reason, 0) >= before.get(reason, 0) + 1, reason
    assert health_task(client, held_task["application_id"]) is not None  # still open

    departments.publish_result(result(held_task, "health"), "health")
    view = client.wait_for_decision(held_task["application_id"])
    assert view["status"] == "approved"
    decided = next(t for t in view["tasks"] if t["item_code"] == HEALTH_ITEM)
    assert decided["state"] == "approved"


def test_a_department_consumer_cannot_read_another_departments_queue(mesh):
    departments = MeshDepartments.of(mesh)
    with Connection(departments.uri("health")) as connection:
        channel = connection.channel()
        with pytest.raises(Exception, match="ACCESS_REFUSED"):
            channel.basic_consume(
                "approval.tasks.public_security",
                callback=lambda *a: None,
                consumer_tag=uuid.uuid4().hex,
            )
            connection.drain_events(timeout=2)
