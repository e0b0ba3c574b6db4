"""Tasks reach a department's queue with the AMQP properties docs/asyncapi.yaml promises:
`message_id` (the envelope's) and `correlation_id` (the application id).

The tasks are built by routing's domain (services/routing/domain.py) and published by the
Outbox provider (onestop/common/outbox.py), from a worker and from the sweep, on the real
broker and store; the last test drives the routing service itself."""

import json
import os
import time
import uuid
from datetime import datetime, timezone

import pytest
from kombu import Connection
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from onestop.common.mongo import Storage
from onestop.common.outbox import Outbox, with_ids
from onestop.common.store import MongoStore
from onestop.common.working_days import WorkingCalendar
from onestop.contracts import messages as contract
from onestop.contracts.topology import declare_all, department_queue, tasks_exchange
from services.routing import domain
from tests.support.amqp import take
from tests.support.plans import plan, plan_task

DEPARTMENT = "itprops"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
PLAN = plan(plan_task("IT-1", "First", DEPARTMENT))


def submitted(application_id):
    return {
        "application_id": application_id,
        "scenario": "it",
        "catalog_version": 1,
        "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
        "region": "430102",
        "channel": "online",
        "form": {},
        "materials": [],
        "optional_items": [],
        "submitted_at": NOW.isoformat(),
    }


def workflow_with_outbox(application_id):
    """A new workflow as routing's domain builds it, its task entries in its outbox."""
    workflow, messages = domain.new_workflow(
        submitted(application_id), PLAN, NOW, WorkingCalendar({"holidays": [], "workdays": []})
    )
    tasks = [m for m in messages if m["kind"] == "amqp"]
    assert [m["body"]["type"] for m in tasks] == [contract.TASK]
    return dict(
        workflow, rev=1, outbox=with_ids(tasks), outbox_pending=True, updated_ts=time.time()
    )


class _Router:
    """A service with a store and an Outbox for department tasks, as routing declares them."""

    name = "it_task_properties"
    store = Storage(MongoStore, "it_task_properties")
    outbox = Outbox("workflows", tasks=tasks_exchange, sweep_interval=0.5, sweep_after_seconds=1)

    @rpc
    def send(self, application_id):
        doc = workflow_with_outbox(application_id)
        self.store.db.workflows.insert_one(doc)
        self.outbox.publish(doc["_id"], doc["rev"], doc["outbox"])

    @rpc
    def leave_for_the_sweep(self, application_id):
        """As if the process died between its write and its publish."""
        doc = workflow_with_outbox(application_id)
        self.store.db.workflows.insert_one(dict(doc, updated_ts=time.time() - 60))


@pytest.fixture
def router(container_factory, nameko_config, amqp_uri):
    os.environ["MONGO_DB_PREFIX"] = f"it{uuid.uuid4().hex[:6]}_"
    with Connection(amqp_uri) as connection:
        declare_all(connection, [DEPARTMENT])
        department_queue(DEPARTMENT).bind(connection.default_channel).purge()
    container = container_factory(_Router, nameko_config)
    container.start()
    with ServiceRpcProxy(_Router.name, nameko_config) as proxy:
        yield proxy


def assert_promised_properties(message, application_id):
    envelope = json.loads(message.body)
    assert envelope["type"] == contract.TASK
    assert envelope["correlation_id"] == application_id
    assert message.properties["message_id"] == envelope["message_id"]
    assert message.properties["correlation_id"] == application_id


def test_a_task_published_by_a_worker_carries_message_and_correlation_ids(router, amqp_uri):
    application_id = uuid.uuid4().hex
    router.send(application_id)
    assert_promised_properties(take(amqp_uri, department_queue(DEPARTMENT)), application_id)


def test_a_task_the_sweep_sends_carries_them_too(router, amqp_uri):
    application_id = uuid.uuid4().hex
    router.leave_for_the_sweep(application_id)
    assert_promised_properties(
        take(amqp_uri, department_queue(DEPARTMENT), timeout=20), application_id
    )


def test_the_routing_service_sends_tasks_with_them(container_factory, nameko_config, amqp_uri):
    from nameko.standalone.events import event_dispatcher
    from nameko.testing.services import replace_dependencies

    from services.routing.service import RoutingService

    os.environ["MONGO_DB_PREFIX"] = f"it{uuid.uuid4().hex[:6]}_"
    with Connection(amqp_uri) as connection:
        declare_all(connection, [DEPARTMENT])
        department_queue(DEPARTMENT).bind(connection.default_channel).purge()
    container = container_factory(RoutingService, nameko_config)
    catalog = replace_dependencies(container, "catalog")
    catalog.plan.return_value = PLAN
    catalog.get_calendar.return_value = {"holidays": [], "workdays": []}
    container.start()
    application_id = uuid.uuid4().hex
    event_dispatcher(nameko_config)("intake", "application_submitted", submitted(application_id))
    assert_promised_properties(take(amqp_uri, department_queue(DEPARTMENT)), application_id)
