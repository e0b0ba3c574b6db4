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

import pymongo
import pytest
import requests

from onestop.client import sample_application
from tests.support.mesh import PORT_BASE, TEST_VHOST, reset_vhost
from tests.support.processes import ProcessMesh
from tests.support.tcp_proxy import CuttableProxy

BATCH = int(os.environ.get("FAULT_BATCH", "240"))
SCENARIOS = ["birth", "enterprise_startup", "construction_permit"]
RETRYABLE = (requests.ConnectionError, requests.Timeout)


def submit_until_accepted(client, body, key, deadline):
    """What a careful client does: retry with the same Idempotency-Key until accepted."""
    while time.monotonic() < deadline:
        try:
            response = client.submit(body, key)
        except RETRYABLE:
            time.sleep(0.3)
            continue
        if response.status_code == 202:
            return response.json()["id"]
        assert response.status_code >= 500, response.text  # 4xx would be our own bug
        time.sleep(0.3)
    raise AssertionError("submission never accepted")


def plan_batch(client, rng, size):
    """(body, expected outcome) for each application: approve, reject or correct-then-approve."""
    scenarios = {code: client.scenario(code) for code in SCENARIOS}
    file_id = client.upload()
    batch = []
    for _ in range(size):
        scenario = scenarios[rng.choice(SCENARIOS)]
        department = rng.choice(
            sorted({i["department"] for i in scenario["items"] if not i["optional"]})
        )
        kind = rng.choice(["approve", "reject", "correct"])
        name = {
            "approve": "Li Hua",
            "reject": f"Reject {department}",
            "correct": f"Correct {department}",
        }[kind]
        expected = "rejected" if kind == "reject" else "approved"
        batch.append((sample_application(scenario, file_id, name=name), expected))
    return batch


def settle(client, application_ids, deadline):
    """Poll until every application is decided, answering correction requests like an
    applicant would. Returns id -> final view."""
    decided = {}
    file_id = None
    while len(decided) < len(application_ids):
        assert time.monotonic() < deadline, (
            f"{len(application_ids) - len(decided)} applications undecided"
        )
        for application_id in application_ids:
            if application_id in decided:
                continue
            try:
                view = client.application(application_id).json()
                if view.get("decision"):
                    decided[application_id] = view
                elif view.get("status") == "awaiting_correction":
                    file_id = file_id or client.upload()
                    asked = {
                        c
                        for t in view["tasks"]
                        if t["state"] == "correction_required"
                        for c in t["requested_materials"]
                    }
                    client.post_as_owner(
                        application_id,
                        "corrections",
                        {"materials": [{"code": c, "file_id": file_id} for c in asked]},
                    )
            except (RETRYABLE, ValueError):
                pass
        time.sleep(0.5)
    return decided


def assert_exactly_once(mesh_env, views):
    """One decision per application, no task decided twice, no application twice."""
    client = pymongo.MongoClient(mesh_env["MONGO_URI"])
    prefix = mesh_env["MONGO_DB_PREFIX"]
    workflows = client[prefix + "routing"].workflows
    for application_id, view in views.items():
        history = workflows.find_one({"_id": application_id})["history"]
        assert [h["cause"] for h in history].count("combined_decision") == 1, application_id
        decided = [h["transition"].split()[1] for h in history if h["cause"] == "approval_result"]
        assert len(decided) == len(set(decided)), (application_id, decided)
    assert client[prefix + "intake"].applications.count_documents({}) == len(views)
    client.close()


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
