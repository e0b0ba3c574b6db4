"""Department broker users: names, rights, passwords, and routing's check of a result's sender."""

import base64
import hashlib
import re

import pytest

from onestop.common import broker_users
from onestop.contracts.envelope import InvalidMessage
from services.routing import boundary

PREFIX = "department."


def test_user_names_map_back_to_their_department_and_nothing_else():
    assert broker_users.department_user("health", PREFIX) == "department.health"
    assert broker_users.department_of_user("department.health", PREFIX) == "health"
    for other in ("guest", "department.", "", None, "x.department.health"):
        assert broker_users.department_of_user(other, PREFIX) is None


def test_a_department_may_read_only_its_own_queue_and_write_only_results():
    rights = broker_users.permissions("health")
    assert rights["configure"] == "^$"
    assert re.search(rights["read"], "approval.tasks.health")
    for name in (
        "approval.tasks.health_x",
        "approval.tasks.public_security",
        "approval.tasks",
        "approval.dead",
        "routing.results",
        "approval_tasks_health",
    ):
        assert not re.search(rights["read"], name), name
    assert re.search(rights["write"], "approval.results")
    for name in ("approval.tasks", "approval.dead", "approval.resultsX", "amq.topic"):
        assert not re.search(rights["write"], name), name
    topic = broker_users.topic_permissions("health")
    assert topic["exchange"] == "approval.results"
    assert re.search(topic["write"], "result.health")
    assert not re.search(topic["write"], "result.public_security")
    assert not re.search(topic["write"], "result.health.extra")


def test_passwords_are_derived_per_user_and_secret():
    one = broker_users.password("department.health", "s1")
    assert one == broker_users.password("department.health", "s1")
    assert one != broker_users.password("department.hrss", "s1")
    assert one != broker_users.password("department.health", "s2")
    assert len(one) >= 40


def test_password_hash_is_rabbitmqs_salted_sha256():
    salt = b"\x01\x02\x03\x04"
    hashed = base64.b64decode(broker_users.rabbit_password_hash("secret", salt))
    assert hashed[:4] == salt
    assert hashed[4:] == hashlib.sha256(salt + b"secret").digest()


def test_definitions_give_each_department_its_user_and_rights(monkeypatch):
    monkeypatch.setenv("BROKER_USER_PREFIX", PREFIX)
    body = broker_users.definitions(["hrss", "health"], "/", key="k")
    assert [u["name"] for u in body["users"]] == ["department.health", "department.hrss"]
    assert all(u["password_hash"] and u["tags"] == [] for u in body["users"])
    assert {(p["user"], p["read"]) for p in body["permissions"]} == {
        ("department.health", r"^approval\.tasks\.health$"),
        ("department.hrss", r"^approval\.tasks\.hrss$"),
    }
    assert {t["write"] for t in body["topic_permissions"]} == {
        r"^result\.health$",
        r"^result\.hrss$",
    }
    unset = broker_users.definitions(["health"], "/")
    assert unset["users"][0]["password_hash"] == ""


def test_uris_carry_the_department_user_and_keep_host_and_vhost(monkeypatch):
    monkeypatch.setenv("BROKER_USER_PREFIX", "t.department.")
    monkeypatch.delenv("DEPARTMENT_AMQP_URIS", raising=False)
    uri = broker_users.amqp_uri_for("health", "amqp://guest:guest@broker:5673/vh", "k")
    assert uri.startswith("amqp://t.department.health:")
    assert uri.endswith("@broker:5673/vh")
    assert broker_users.vhost_of(uri) == "vh"
    assert broker_users.vhost_of("amqp://guest:guest@broker:5672/") == "/"
    monkeypatch.setenv("DEPARTMENT_AMQP_URIS", '{"health": "amqp://given@h/v"}')
    assert broker_users.department_uris(["health", "hrss"]) == {"health": "amqp://given@h/v"}


def test_the_secret_file_is_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("BROKER_USERS_SECRET", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    first = broker_users.secret()
    assert first == broker_users.secret()
    assert (tmp_path / "broker-users.secret").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("BROKER_USERS_SECRET", "from-the-environment")
    assert broker_users.secret() == "from-the-environment"


WORKFLOW = {
    "tasks": {
        "HN-WJ-0001": {"task_id": "a1:HN-WJ-0001", "department": "health"},
        "HN-GA-0001": {"task_id": "a1:HN-GA-0001", "department": "public_security"},
    }
}


def result(task_id, department):
    return {
        "task_id": task_id,
        "application_id": "a1",
        "department": department,
        "decision": "approved",
    }


@pytest.mark.parametrize(
    "sender,claimed,task_id,reason",
    [
        (None, "health", "a1:HN-WJ-0001", "unauthenticated"),
        ("guest", "health", "a1:HN-WJ-0001", "unknown_sender"),
        ("department.health", "public_security", "a1:HN-GA-0001", "impersonation"),
        ("department.health", "health", "a1:HN-GA-0001", "foreign_task"),
    ],
)
def test_routing_refuses_results_not_from_the_tasks_department(
    sender, claimed, task_id, reason, monkeypatch
):
    monkeypatch.setenv("BROKER_USER_PREFIX", PREFIX)
    before = boundary.RESULTS_REFUSED.labels(reason)._value.get()
    with pytest.raises(InvalidMessage, match=reason):
        boundary.authenticate_result(sender, result(task_id, claimed), WORKFLOW)
    assert boundary.RESULTS_REFUSED.labels(reason)._value.get() == before + 1


def test_routing_accepts_the_tasks_own_department(monkeypatch):
    monkeypatch.setenv("BROKER_USER_PREFIX", PREFIX)
    boundary.authenticate_result("department.health", result("a1:HN-WJ-0001", "health"), WORKFLOW)
    # an unknown application or task is not the boundary's business: routing ignores it later
    assert boundary.refusal("department.health", result("zz:X", "health"), None) is None


def test_the_deployment_file_lists_every_catalog_department_without_passwords():
    from ops import cli

    body = cli.deployment_definitions()
    assert cli.DEPARTMENT_USERS_FILE.read_text() == cli.render(body), (
        "run: python -m ops.cli broker-users definitions --write"
    )
    assert [u["name"] for u in body["users"]] == [
        f"department.{code}" for code in cli.catalog_departments()
    ]
    assert all(u["password_hash"] == "" for u in body["users"])


def test_consumers_connect_as_given_derived_or_default(monkeypatch):
    monkeypatch.setenv("BROKER_USER_PREFIX", PREFIX)
    monkeypatch.setenv("AMQP_URI", "amqp://platform:pw@broker:5672/mesh")
    monkeypatch.setenv("DEPARTMENT_AMQP_URIS", '{"health": "amqp://given@h/v"}')
    assert broker_users.consumer_uris(["health"]) == {"health": "amqp://given@h/v"}
    monkeypatch.delenv("DEPARTMENT_AMQP_URIS")
    monkeypatch.setenv("BROKER_USERS_SECRET", "s")
    derived = broker_users.consumer_uris(["health"])["health"]
    assert broker_users.user_of_uri(derived) == "department.health"
    assert derived.endswith("@broker:5672/mesh")
    assert f":{broker_users.password('department.health', 's')}@" in derived
    monkeypatch.delenv("BROKER_USERS_SECRET")
    assert broker_users.consumer_uris(["health"]) == {}


def test_a_correction_naming_a_material_outside_the_items_standard_list_is_refused(monkeypatch):
    monkeypatch.setenv("BROKER_USER_PREFIX", PREFIX)
    workflow = {
        "tasks": {
            "HN-WJ-0001": {
                "task_id": "a1:HN-WJ-0001",
                "item_code": "HN-WJ-0001",
                "department": "health",
                "materials": ["M-ID", "M-BIRTH"],
            }
        }
    }
    asked = dict(
        result("a1:HN-WJ-0001", "health"),
        decision="correction_required",
        materials=["M-BIRTH", "M-EXTRA"],
    )
    before = boundary.RESULTS_REFUSED.labels("extra_material")._value.get()
    with pytest.raises(InvalidMessage, match="extra_material.*M-EXTRA is not on the standard"):
        boundary.authenticate_result("department.health", asked, workflow)
    assert boundary.RESULTS_REFUSED.labels("extra_material")._value.get() == before + 1
    # the standard list's materials are fine, and so is an approval that names none
    boundary.authenticate_result("department.health", dict(asked, materials=["M-ID"]), workflow)
    boundary.authenticate_result("department.health", result("a1:HN-WJ-0001", "health"), workflow)
