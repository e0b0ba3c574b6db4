"""The department SDK against the real broker, as a department's own broker user.

Both styles (plain pika worker, nameko entrypoint) answer with the validated
`user_id`, acknowledge only after the result was confirmed, come back after the
broker drops their connection, and lose no task when it drops in the middle of one.
A department user cannot touch another department's queue, routing key or identity.
"""

import json
import shutil
import subprocess
import threading
import time
import uuid

import pika
import pytest
from kombu import Connection, Queue

from departments.sdk.nameko_entrypoint import approval_task
from departments.sdk.pika_worker import Worker
from onestop.common import broker_users
from tests.support.amqp import take as take_message
from onestop.contracts.envelope import make_envelope
from onestop.contracts.topology import (
    dead_letter_queue,
    declare_all,
    department_queue,
    results_exchange,
    tasks_exchange,
)
from tests.support.departments import department_amqp_uri

DEPARTMENT, OTHER = "sdkdept", "sdkother"


@pytest.fixture
def broker(amqp_uri):
    """Topology declared by the platform (guest), users created, queues empty; a probe
    queue that collects the results published with DEPARTMENT's routing key."""
    with Connection(amqp_uri) as connection:
        declare_all(connection, [DEPARTMENT, OTHER])
        channel = connection.default_channel
        for queue in (department_queue(DEPARTMENT), department_queue(OTHER), dead_letter_queue):
            queue.bind(channel).purge()
        probe = Queue(
            f"sdk-probe-{uuid.uuid4().hex[:8]}",
            exchange=results_exchange,
            routing_key=f"result.{DEPARTMENT}",
            auto_delete=False,
            durable=False,
        )
        probe.bind(channel).declare()
    uris = {d: department_amqp_uri(amqp_uri, d) for d in (DEPARTMENT, OTHER)}
    yield {"guest": amqp_uri, **uris, "probe": probe}
    with Connection(amqp_uri) as connection:
        probe.bind(connection.default_channel).delete()


def send_task(amqp_uri, department=DEPARTMENT, message_type="approval_task", raw=None):
    application_id = uuid.uuid4().hex
    payload = {
        "task_id": f"{application_id}:IT-1",
        "application_id": application_id,
        "scenario": "it",
        "item_code": "IT-1",
        "item_name": "Item",
        "department": department,
        "office": f"{department}.430102",
        "region": "430102",
        "level": "county",
        "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "Li Hua"},
        "form": {},
        "materials": [],
    }
    if message_type == "task_cancelled":
        payload = {k: payload[k] for k in ("task_id", "application_id", "department")}
        payload["reason"] = "withdrawn"
    body = (
        raw if raw is not None else json.dumps(make_envelope(message_type, application_id, payload))
    )
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(
            body,
            exchange=tasks_exchange,
            delivery_mode=2,
            routing_key=f"task.{department}.430102",
            content_type="application/json",
        )
    return payload["task_id"]


def take(amqp_uri, queue, timeout=20):
    return take_message(amqp_uri, queue, timeout)


def drop_connections(user, timeout=20):
    """Have the broker close every connection of `user` (as a broker restart would)."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = subprocess.run(
            [ctl, "list_connections", "-q", "--no-table-headers", "user", "pid"],
            capture_output=True,
            text=True,
            check=True,
        )
        pids = [
            line.split("\t")[1]
            for line in listed.stdout.splitlines()
            if line.split("\t")[0] == user
        ]
        if pids:
            for pid in pids:
                subprocess.run(
                    [ctl, "close_connection", pid, "test: broker restart"],
                    capture_output=True,
                    check=True,
                )
            return len(pids)
        time.sleep(0.1)
    raise AssertionError(f"no connection of {user} to drop")


def text(body):
    return body.decode() if isinstance(body, bytes) else body


def approve(task):
    return {"decision": "approved", "data": {"reference_number": f"R-{task['task_id']}"}}


def assert_result_of(message, task_id):
    body = json.loads(message.body)
    assert body["type"] == "approval_result"
    assert body["payload"]["task_id"] == task_id
    assert message.properties["user_id"] == broker_users.department_user(DEPARTMENT)
    assert message.properties["delivery_mode"] == 2
    # the properties docs/asyncapi.yaml asks of a result (sendApprovalResult)
    assert message.properties["message_id"] == body["message_id"]
    assert (
        message.properties["correlation_id"]
        == body["correlation_id"]
        == body["payload"]["application_id"]
    )
    assert message.content_type == "application/json"


def run_worker(worker):
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


# -- what a department's user may not do ------------------------------------------------
def refused(uri, action):
    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    channel.confirm_delivery()
    try:
        action(channel)
    except pika.exceptions.ChannelClosedByBroker as exc:
        return exc.reply_code
    finally:
        if connection.is_open:
            connection.close()
    return None


def test_a_department_user_cannot_touch_another_departments_work(broker):
    uri = broker[DEPARTMENT]
    own = broker_users.department_user(DEPARTMENT)
    other = broker_users.department_user(OTHER)
    props = pika.BasicProperties(user_id=own)
    assert (
        refused(uri, lambda ch: ch.basic_consume(f"approval.tasks.{OTHER}", lambda *a: None)) == 403
    )
    assert (
        refused(
            uri, lambda ch: ch.basic_publish("approval.results", f"result.{OTHER}", b"{}", props)
        )
        == 403
    )
    assert (
        refused(
            uri,
            lambda ch: ch.basic_publish(
                "approval.results",
                f"result.{DEPARTMENT}",
                b"{}",
                pika.BasicProperties(user_id=other),
            ),
        )
        == 406
    )  # RabbitMQ validates user_id
    assert (
        refused(
            uri,
            lambda ch: ch.queue_bind(f"approval.tasks.{DEPARTMENT}", "approval.tasks", "task.#"),
        )
        == 403
    )
    assert refused(uri, lambda ch: ch.exchange_delete("approval.tasks")) == 403
    assert (
        refused(uri, lambda ch: ch.basic_publish("approval.tasks", f"task.{OTHER}.1", b"{}", props))
        == 403
    )
    # and what it may: consume its own queue, publish its own results as itself
    assert (
        refused(
            uri,
            lambda ch: ch.basic_publish("approval.results", f"result.{DEPARTMENT}", b"{}", props),
        )
        is None
    )
    take(broker["guest"], broker["probe"])


# -- the plain pika worker ---------------------------------------------------------------
def test_pika_worker_answers_as_its_user_and_comes_back_after_the_broker_drops_it(broker):
    worker = Worker(broker[DEPARTMENT], [DEPARTMENT], approve, prefetch=1)
    thread = run_worker(worker)
    try:
        first = send_task(broker["guest"])
        assert_result_of(take(broker["guest"], broker["probe"]), first)
        assert drop_connections(broker_users.department_user(DEPARTMENT)) == 1
        second = send_task(broker["guest"])
        assert_result_of(take(broker["guest"], broker["probe"]), second)
    finally:
        worker.stop()
        thread.join(10)


def test_pika_worker_loses_no_task_when_the_connection_drops_mid_task(broker):
    calls, dropped = [], threading.Event()

    def slow_first_answer(task):
        calls.append(task["task_id"])
        if len(calls) == 1:  # the broker goes away while the department is deciding
            drop_connections(broker_users.department_user(DEPARTMENT))
            dropped.set()
        return approve(task)

    worker = Worker(broker[DEPARTMENT], [DEPARTMENT], slow_first_answer, prefetch=1)
    thread = run_worker(worker)
    try:
        task_id = send_task(broker["guest"])
        assert_result_of(take(broker["guest"], broker["probe"], timeout=30), task_id)
        assert dropped.is_set()
        assert calls == [task_id, task_id]  # redelivered and answered after reconnecting
    finally:
        worker.stop()
        thread.join(10)


def test_pika_worker_dead_letters_what_it_cannot_read_and_acks_cancellations(broker):
    cancelled = []
    worker = Worker(broker[DEPARTMENT], [DEPARTMENT], approve, on_cancel=cancelled.append)
    thread = run_worker(worker)
    try:
        send_task(broker["guest"], raw="not json")
        dead = take(broker["guest"], dead_letter_queue)
        assert text(dead.body) == "not json"
        assert dead.headers["x-death"][0]["reason"] == "rejected"
        task_id = send_task(broker["guest"], message_type="task_cancelled")
        deadline = time.monotonic() + 10
        while not cancelled and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c["task_id"] for c in cancelled] == [task_id]
    finally:
        worker.stop()
        thread.join(10)


# -- the nameko entrypoint ---------------------------------------------------------------
class SdkDepartment:
    name = "sdk_department"
    seen = []

    @approval_task(DEPARTMENT)
    def decide(self, task):
        self.seen.append(task["task_id"])
        return approve(task)


def test_nameko_entrypoint_answers_as_its_user_and_comes_back_after_a_drop(
    broker, container_factory, nameko_config
):
    config = dict(nameko_config, DEPARTMENT_AMQP_URIS={DEPARTMENT: broker[DEPARTMENT]})
    container = container_factory(SdkDepartment, config)
    container.start()
    first = send_task(broker["guest"])
    assert_result_of(take(broker["guest"], broker["probe"]), first)
    drop_connections(broker_users.department_user(DEPARTMENT))
    second = send_task(broker["guest"])
    assert_result_of(take(broker["guest"], broker["probe"], timeout=30), second)
    cancelled = send_task(broker["guest"], message_type="task_cancelled")
    send_task(broker["guest"], raw="not json")
    dead = take(broker["guest"], dead_letter_queue)
    assert text(dead.body) == "not json"
    time.sleep(0.5)
    assert cancelled not in SdkDepartment.seen  # cancellations never reach the handler
