"""Outages under load (issue 14, "Store and outage behaviour"): while a batch of
applications is being submitted and decided, the store goes away for 60 s (killed, then
started again on its data), and then the broker itself is stopped and started again. In
the end every application is decided exactly once, with the outcome its departments gave,
and nothing was dead-lettered: messages that met the outage waited in the delay queues
(onestop/common/messaging.py) instead of using up their deliveries.

The broker here is a RabbitMQ node of the test's own (tests/support/private_broker.py),
so that restarting it does not disturb the machine's shared broker."""

import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from onestop.contracts.topology import DEAD_LETTER_QUEUE
from tests.support import private_broker
from tests.support.batches import assert_exactly_once, plan_batch, settle, submit_until_accepted
from tests.support.mesh import PORT_BASE, PORT_OFFSETS
from tests.support.processes import ProcessMesh
from tests.support.scrape import metric_total

BATCH = int(os.environ.get("OUTAGE_BATCH", "60"))
STORE_OUTAGE_SECONDS = float(os.environ.get("STORE_OUTAGE_SECONDS", "60"))

pytestmark = pytest.mark.skipif(
    not private_broker.available(), reason="needs the RabbitMQ server package (rabbitmq-server)"
)


@pytest.fixture
def outage_mesh(tmp_path_factory):
    broker = private_broker.PrivateBroker(tmp_path_factory.mktemp("broker"), PORT_BASE + 440)
    broker.start()
    mesh = ProcessMesh(
        tmp_path_factory.mktemp("outage"), broker.uri, PORT_BASE + 400, extra_env=broker.env()
    )
    try:
        yield mesh.start(), broker
    finally:
        mesh.stop()
        broker.remove()


def outages(mesh, broker, accepted, log, stop):
    """Once the batch is under way: the store away for 60 s, then a broker restart (none of
    it when the submissions stopped first: `stop` is set when they end, however)."""
    while len(accepted) < BATCH // 6:
        if stop.wait(0.2):
            return
    log.append(("store down", len(accepted)))
    mesh.stop_store()
    time.sleep(STORE_OUTAGE_SECONDS)
    mesh.start_store()
    log.append(("store up", len(accepted)))
    time.sleep(5)
    log.append(("broker down", len(accepted)))
    broker.stop()
    time.sleep(3)
    broker.start()
    log.append(("broker up", len(accepted)))


@pytest.mark.timeout(1200)
def test_a_store_outage_and_a_broker_restart_under_load_lose_nothing(outage_mesh):
    mesh, broker = outage_mesh
    client = mesh.client()
    batch = plan_batch(client, random.Random(20261203), BATCH)
    accepted, log, stop = [], [], threading.Event()
    chaos = threading.Thread(target=outages, args=(mesh, broker, accepted, log, stop))
    chaos.start()
    deadline = time.monotonic() + 900

    def submit(item):
        own = mesh.client()
        application_id = submit_until_accepted(own, item[0], uuid.uuid4().hex, deadline)
        client._owners[application_id] = own._owners[application_id]
        accepted.append(application_id)
        time.sleep(0.5)  # a steady trickle, so that both outages meet work in flight
        return application_id

    try:
        with ThreadPoolExecutor(3) as pool:
            ids = list(pool.map(submit, batch))
    finally:
        stop.set()
        chaos.join()
    # the outages really happened while applications were coming in
    assert [event for event, _ in log] == ["store down", "store up", "broker down", "broker up"]
    assert 0 < log[0][1] < BATCH, log
    views = settle(client, ids, deadline)
    wrong = {
        i: (views[i]["status"], expected)
        for i, (_, expected) in zip(ids, batch)
        if views[i]["status"] != expected
    }
    assert not wrong, wrong
    assert_exactly_once(mesh.env, views)
    depths = broker.queue_depths()
    assert depths.get(DEAD_LETTER_QUEUE) == 0, depths
    # and the outage did meet messages in flight: some waited in a delay queue or were held
    waited = sum(
        metric_total(
            f"http://127.0.0.1:{PORT_BASE + 400 + PORT_OFFSETS[service]}",
            "messages_retried_later_total",
        )
        for service in ("intake", "routing", "license", "feedback")
    )
    assert waited > 0
