"""Nothing lost, nothing twice (issue 4): a batch of applications with random department
outcomes while routing, a department consumer and intake are killed with SIGKILL and
restarted, with two routing processes competing for the same queues; and a broker
connection cut in the middle of a batch."""

import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.batches import (
    assert_exactly_once,
    plan_batch,
    settle,
    submit_until_accepted,
)
from tests.support.mesh import PORT_BASE, TEST_VHOST, reset_vhost
from tests.support.processes import ProcessMesh
from tests.support.tcp_proxy import CuttableProxy

BATCH = int(os.environ.get("FAULT_BATCH", "240"))


@pytest.fixture(scope="module")
def fault_mesh(tmp_path_factory):
    mesh = ProcessMesh(
        tmp_path_factory.mktemp("faults"), reset_vhost(f"{TEST_VHOST}_faults"), PORT_BASE + 200
    ).start()
    # a second routing process competing for the same queues
    mesh.start_process(
        "routing", as_name="routing-b", extra_env={"ROUTING_PORT": str(PORT_BASE + 230)}
    )
    yield mesh
    mesh.stop()


def chaos(mesh, stop):
    """Kill -9 and restart routing, a department consumer and intake, in turn."""
    for name in ["routing", "departments-pika", "intake", "routing-b", "departments-nameko"]:
        if stop.wait(3):
            return
        mesh.kill(name)
        time.sleep(1.5)
        if name == "routing-b":
            mesh.start_process(
                "routing", as_name="routing-b", extra_env={"ROUTING_PORT": str(PORT_BASE + 230)}
            )
        else:
            mesh.start_process(name)


@pytest.mark.timeout(900)
def test_a_batch_survives_kills_with_exactly_one_right_decision_each(fault_mesh):
    rng = random.Random(20261126)
    client = fault_mesh.client()
    batch = plan_batch(client, rng, BATCH)
    stop = threading.Event()
    killer = threading.Thread(target=chaos, args=(fault_mesh, stop))
    killer.start()
    deadline = time.monotonic() + 600
    try:

        def submit(item):
            own = fault_mesh.client()  # a session per thread
            application_id = submit_until_accepted(own, item[0], uuid.uuid4().hex, deadline)
            client._owners[application_id] = own._owners[application_id]
            return application_id

        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(submit, batch))
    finally:
        killer.join()
    views = settle(client, ids, deadline)
    wrong = {
        i: (views[i]["status"], expected)
        for i, (_, expected) in zip(ids, batch)
        if views[i]["status"] != expected
    }
    assert not wrong, wrong
    assert_exactly_once(fault_mesh.env, views)


def test_a_cut_broker_connection_loses_nothing(tmp_path_factory):
    proxy = CuttableProxy(5672)
    vhost = f"{TEST_VHOST}_proxy"
    reset_vhost(vhost)
    mesh = ProcessMesh(
        tmp_path_factory.mktemp("proxy"),
        f"amqp://guest:guest@127.0.0.1:{proxy.port}/{vhost}",
        PORT_BASE + 300,
    ).start()
    try:
        client = mesh.client()
        batch = plan_batch(client, random.Random(7), 30)
        deadline = time.monotonic() + 300
        ids = []
        for index, (body, _) in enumerate(batch):
            if index == 10:  # cut every broker connection for 3 s while applying goes on
                proxy.cut()
                threading.Timer(3, proxy.restore).start()
            ids.append(submit_until_accepted(client, body, uuid.uuid4().hex, deadline))
        views = settle(client, ids, deadline)
        assert [views[i]["status"] for i in ids] == [expected for _, expected in batch]
        assert_exactly_once(mesh.env, views)
    finally:
        mesh.stop()
        proxy.close()
