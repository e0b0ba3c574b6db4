"""Least privilege on the broker (issue 13): each service as its own RabbitMQ user, with the
rights ops/deploy/broker_permissions.py reads from its class, against the real broker.

Real services (catalog, routing) started as their users do their work together: routing
takes intake's event, plans over RPC with the catalog and sends the tasks to the
departments. Then what they must not do is refused by the broker: routing's user cannot
consume intake's queue, publish on license.events or listen in on another service's RPC;
intake's user cannot send tasks; a department user cannot read another department's queue.

Own virtual host (`<TEST_VHOST>_lp`) and users (`h13-service.*`, `h13-department.*` for
TEST_VHOST onestop_h13), all removed afterwards.
"""

import json
import os
import secrets
import shutil
import subprocess
import uuid
from datetime import datetime, timezone

import pytest
from amqp.exceptions import AccessRefused
from kombu import Connection, Exchange, Queue
from nameko.events import get_event_exchange
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy

from onestop.common import broker_users
from onestop.contracts.topology import declare_all, department_queue, tasks_exchange
from ops.deploy import wait_for_broker
from ops.deploy.broker_permissions import service_grants, topology_exchanges
from services.catalog.service import CatalogService
from services.routing.service import RoutingService
from tests.support.amqp import take
from tests.support.mesh import reset_vhost

VHOST = os.environ.get("TEST_VHOST", "onestop_test") + "_lp"
OWNER = os.environ.get("TEST_VHOST", "onestop_test").removeprefix("onestop_")
SERVICE_PREFIX = f"{OWNER}-service."
DEPARTMENT_PREFIX = f"{OWNER}-department."
KEY = secrets.token_urlsafe(32)
INTAKE_QUEUE = "evt-routing-application_updated--intake.handle_application_updated"


def rabbitmqctl(*args):
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    return subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def broker():
    """The vhost with the platform's topology (declared as guest), every service's user and
    two department users; removed at the end."""
    guest = reset_vhost(VHOST)
    departments = _catalog_departments()
    with Connection(guest) as connection:
        # the topology job's part: the services' exchanges too (nameko-rpc, *.events)
        declare_all(connection, departments, topology_exchanges())
        # intake's event queue exists, as when intake has run once
        Queue(
            INTAKE_QUEUE,
            exchange=get_event_exchange("routing", {}),
            routing_key="application_updated",
            durable=True,
            queue_arguments={"x-dead-letter-exchange": "approval.dead"},
        ).bind(connection.default_channel).declare()
    os.environ["BROKER_SERVICE_USER_PREFIX"] = SERVICE_PREFIX
    os.environ["BROKER_USER_PREFIX"] = DEPARTMENT_PREFIX
    grants = service_grants()
    users = broker_users.provision_services(grants, guest, key=KEY)
    users += broker_users.provision(departments, guest, key=KEY)
    try:
        yield {
            "guest": guest,
            "service": lambda name: broker_users.service_amqp_uri(name, guest, KEY),
            "department": lambda code: broker_users.amqp_uri_for(code, guest, KEY),
        }
    finally:
        for user in users:
            rabbitmqctl("delete_user", user)
        rabbitmqctl("delete_vhost", VHOST)
        os.environ.pop("BROKER_SERVICE_USER_PREFIX", None)
        os.environ.pop("BROKER_USER_PREFIX", None)


def _catalog_departments():
    from services.catalog.domain import load_data

    return sorted(d["code"] for d in load_data()["departments"])


@pytest.fixture
def config_as(nameko_config, broker):
    return lambda user_uri: {**nameko_config, "AMQP_URI": user_uri}


def refused(action):
    """True when the broker refuses `action` (403 ACCESS_REFUSED on its channel)."""
    try:
        action()
    except AccessRefused:
        return True
    return False


def consume_from(uri, queue_name):
    def action():
        with Connection(uri) as connection:
            channel = connection.channel()
            channel.basic_consume(queue_name, callback=lambda message: None)

    return action


def publish_on(uri, exchange, routing_key):
    def action():
        with Connection(uri, transport_options={"confirm_publish": True}) as connection:
            connection.Producer().publish(
                "{}", exchange=exchange, routing_key=routing_key, delivery_mode=2
            )

    return action


def bind_to(uri, queue_name, exchange, routing_key):
    def action():
        with Connection(uri) as connection:
            Queue(
                queue_name,
                exchange=exchange,
                routing_key=routing_key,
                auto_delete=True,
            ).bind(connection.channel()).declare()

    return action


def test_services_as_their_own_users_plan_and_send_tasks(
    broker, config_as, container_factory, mongo_uri
):
    os.environ["MONGO_DB_PREFIX"] = f"it{uuid.uuid4().hex[:6]}_"
    catalog = container_factory(CatalogService, config_as(broker["service"]("catalog")))
    catalog.start()
    routing = container_factory(RoutingService, config_as(broker["service"]("routing")))
    routing.start()
    with ServiceRpcProxy("catalog", config_as(broker["guest"])) as rpc:
        birth = rpc.get_scenario("birth")
    application_id = uuid.uuid4().hex
    # intake's event, published as intake's user (it may publish on intake.events)
    event_dispatcher(config_as(broker["service"]("intake")))(
        "intake",
        "application_submitted",
        {
            "application_id": application_id,
            "scenario": "birth",
            "catalog_version": birth["catalog_version"],
            "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
            "region": "430102",
            "channel": "online",
            "form": {},
            "materials": [],
            "optional_items": [],
            "submitted_at": datetime.now(timezone.utc).isoformat(),
        },
    )
    # routing planned with the catalog (RPC between two least-privilege users) and sent the
    # first task to its department, which reads it as its own user
    first = next(item for item in birth["items"] if not item.get("depends_on"))
    department = first["department"]
    task = json.loads(take(broker["department"](department), department_queue(department)).body)
    assert task["type"] == "approval_task"
    assert task["payload"]["application_id"] == application_id
    assert task["payload"]["department"] == department


def test_routing_user_cannot_take_intake_queue_or_speak_for_license(broker):
    routing = broker["service"]("routing")
    assert refused(consume_from(routing, INTAKE_QUEUE))
    assert refused(publish_on(routing, get_event_exchange("license", {}), "license_issued"))
    # nor bind a queue of its own to another service's RPC requests (topic permission)
    rpc = Exchange("nameko-rpc", type="topic", durable=True)
    reply_queue = f"rpc.reply-routing-{uuid.uuid4()}"
    assert refused(bind_to(routing, reply_queue, rpc, "license.*"))
    # what it does need is allowed: its own events
    assert not refused(publish_on(routing, get_event_exchange("routing", {}), "probe"))


def test_intake_and_catalog_users_cannot_send_tasks_or_routing_events(broker):
    assert refused(publish_on(broker["service"]("intake"), tasks_exchange, "task.health.430102"))
    catalog = broker["service"]("catalog")
    assert refused(publish_on(catalog, get_event_exchange("routing", {}), "application_decided"))
    assert refused(consume_from(catalog, "routing.results"))


def test_a_department_user_cannot_read_another_departments_queue(broker):
    departments = _catalog_departments()
    own, other = departments[0], departments[1]
    uri = broker["department"](own)
    assert not refused(consume_from(uri, department_queue(own).name))
    assert refused(consume_from(uri, department_queue(other).name))


def test_a_service_waits_for_the_topology_with_its_own_user_only(broker):
    """Kubernetes' wait-for-broker init container (ADR 0031): with the service's own URI it
    sees its exchanges declared (passively: no right needed), one not declared yet, and a
    user the topology job has not created yet (here: a wrong password) cannot log in."""
    routing = broker["service"]("routing")
    names = wait_for_broker.expected_exchanges("routing")
    assert "approval.tasks" in names
    assert wait_for_broker.missing_exchanges(routing, names) == []
    assert wait_for_broker.missing_exchanges(routing, ["approval.tasks", "nobody.events"]) == [
        "nobody.events"
    ]
    wait_for_broker.wait(routing, names, seconds=5)
    wrong = routing.replace(f"{SERVICE_PREFIX}routing:", f"{SERVICE_PREFIX}routing:x", 1)
    with pytest.raises(RuntimeError, match="cannot log in yet"):
        wait_for_broker.wait(wrong, names, seconds=0, pause=0)


def declare_exchange(uri, name):
    def action():
        with Connection(uri) as connection:
            Exchange(name, type="topic", durable=True).bind(connection.channel()).declare()

    return action


def delete_exchange(uri, name):
    def action():
        with Connection(uri) as connection:
            connection.channel().exchange_delete(name)

    return action


def test_a_service_configures_only_its_own_queues_and_exchange(broker):
    """ADR 0031: the exchanges a service binds to or publishes on that are not its own are
    the topology's; its user may neither declare nor delete them (nameko's consumers only
    look them up, onestop/common/messaging.py), while the mesh above runs with these
    rights."""
    routing = broker["service"]("routing")
    for name in ("intake.events", "license.events", "nameko-rpc", "approval.tasks"):
        assert refused(delete_exchange(routing, name)), name
        assert refused(declare_exchange(routing, name)), name
    for name in ("approval.dead", "approval.retry.5s"):
        assert refused(delete_exchange(routing, name)), name
    intake = broker["service"]("intake")
    assert refused(delete_exchange(intake, "routing.events"))
    assert refused(delete_exchange(intake, "operators.events"))
    # its own exchange it declares (its outbox's events), and may
    assert not refused(declare_exchange(routing, "routing.events"))
    assert not refused(declare_exchange(intake, "intake.events"))
