"""The services' broker rights as ops/deploy/broker_permissions.py reads them from the
classes (issue 13): each may use its own queues and exchanges, and nothing of another's."""

import re

import pytest

from onestop.common import config
from ops.deploy.broker_permissions import service_grants


@pytest.fixture(scope="module")
def grants():
    return service_grants()


def allowed(grants, service, right, name):
    return re.fullmatch(grants[service][0][right], name) is not None


def topic(grants, service, exchange, right, key):
    for each in grants[service][1]:
        if each["exchange"] == exchange:
            return re.fullmatch(each[right], key) is not None
    return None  # no topic permission on that exchange


def test_every_service_of_the_inventory_has_a_user_and_the_gateway_none(grants):
    assert set(grants) == set(config.SERVICES)
    assert not set(config.FRONTENDS) & set(grants)  # the screens speak HTTP only, as the gateway


def test_a_service_consumes_only_its_own_queues(grants):
    intake_queue = "evt-routing-application_updated--intake.handle_application_updated"
    assert allowed(grants, "intake", "read", intake_queue)
    assert not allowed(grants, "routing", "read", intake_queue)
    assert allowed(grants, "routing", "read", "routing.results")
    assert not allowed(grants, "feedback", "read", "routing.results")
    assert allowed(grants, "catalog", "read", "rpc-catalog")
    assert not allowed(grants, "intake", "read", "rpc-catalog")
    assert not any(allowed(grants, s, "read", "approval.tasks.health") for s in grants)
    # a reply queue is per process (a uuid), and only the service's own
    reply = "rpc.reply-intake-0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    assert allowed(grants, "intake", "configure", reply)
    assert not allowed(grants, "routing", "read", reply)


def test_a_service_publishes_only_on_its_own_exchanges(grants):
    assert allowed(grants, "license", "write", "license.events")
    assert not allowed(grants, "routing", "write", "license.events")
    assert allowed(grants, "routing", "write", "approval.tasks")
    assert not allowed(grants, "intake", "write", "approval.tasks")
    assert not any(allowed(grants, s, "write", "approval.results") for s in grants)


def test_rpc_and_events_are_narrowed_by_routing_key(grants):
    # intake calls the catalog and license, nobody else; routing only the catalog
    assert topic(grants, "intake", "nameko-rpc", "write", "license.find_reusable")
    assert not topic(grants, "routing", "nameko-rpc", "write", "license.find_reusable")
    # only the catalog may bind to the catalog's requests
    assert topic(grants, "catalog", "nameko-rpc", "read", "catalog.*")
    assert not topic(grants, "routing", "nameko-rpc", "read", "catalog.*")
    # license hears of routing's decisions, not of every routing event
    assert topic(grants, "license", "routing.events", "read", "application_decided")
    assert not topic(grants, "license", "routing.events", "read", "application_updated")


def test_a_service_configures_only_its_own_queues_and_events_exchange(grants):
    """docs/adr/0031: what it binds to or publishes on that is not its own is the
    topology's (declared by the topology job, looked up by the services)."""
    import json

    from ops.deploy.rabbitmq import DEFINITIONS

    declared = {e["name"] for e in json.loads(DEFINITIONS.read_text())["exchanges"]}
    assert {"nameko-rpc", "routing.events", "intake.events", "operators.events"} <= declared
    for service in config.SERVICES:
        for name in declared - {f"{service}.events"}:
            assert not allowed(grants, service, "configure", name), (service, name)
        own = f"{service}.events"
        assert allowed(grants, service, "configure", own) == (
            own in declared and service != "catalog"
        )
    assert allowed(grants, "routing", "configure", "routing.results")  # its own queue
    assert allowed(grants, "catalog", "configure", "rpc-catalog")
    assert not allowed(grants, "catalog", "configure", "rpc-license")
    for seconds in (1, 5, 15, 30):  # the retries: publish only
        assert allowed(grants, "routing", "write", f"approval.retry.{seconds}s")
        assert not allowed(grants, "routing", "read", f"approval.retry.{seconds}s")
