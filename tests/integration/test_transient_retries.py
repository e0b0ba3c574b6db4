"""Transient failures (store or broker away) are retried later without counting toward a
quorum queue's delivery limit (onestop/common/messaging.py, docs/operations.md).

The queue here is a quorum queue with a delivery limit of 2: a handler that fails four
times in a row with a store outage would have its message dropped (or dead-lettered) by the
broker after two requeues, the old policy. Through the delay queues it is handled once the
"store" is back, with its headers intact, and nothing is dead-lettered; a message that keeps
failing past the retry limit is dead-lettered by us with the reason.
"""

import json
import uuid

import pytest
from kombu import Connection, Queue
from pymongo.errors import ConnectionFailure

from onestop.common import messaging
from onestop.common.messaging import consume, consume_with_sender
from onestop.contracts import topology
from onestop.contracts.topology import (
    DEAD_LETTER_ARGS,
    dead_letter_queue,
    declare_all,
    results_exchange,
)
from tests.support.departments import department_amqp_uri, wait_for
from onestop.common import broker_users

QUEUE = f"it-retry-{uuid.uuid4().hex[:6]}"
SENDER_QUEUE = f"it-retry-sender-{uuid.uuid4().hex[:6]}"
DEPARTMENT = "rtdept"
FAILURES = 4
calls = []


def quorum_queue(name, **kwargs):
    return Queue(
        name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum", "x-delivery-limit": 2, **DEAD_LETTER_ARGS},
        **kwargs,
    )


class Flaky:
    name = "it_flaky"

    @consume(quorum_queue(QUEUE))
    def handle(self, body):
        calls.append(body)
        if body.get("fail", 0) < 0 or len([c for c in calls if c == body]) <= body["fail"]:
            raise ConnectionFailure("the store is away (test)")


class FlakyResults:
    name = "it_flaky_results"

    @consume_with_sender(
        quorum_queue(SENDER_QUEUE, exchange=results_exchange, routing_key=f"result.{DEPARTMENT}")
    )
    def handle(self, body, sender):
        calls.append((body, sender))
        if len([c for c in calls if c == (body, sender)]) <= body["fail"]:
            raise ConnectionFailure("the store is away (test)")


@pytest.fixture
def broker(amqp_uri, monkeypatch):
    monkeypatch.setattr(topology, "RETRY_DELAYS_SECONDS", (0.2, 0.5))
    calls.clear()
    with Connection(amqp_uri) as connection:
        declare_all(connection)
        dead_letter_queue.bind(connection.default_channel).purge()
    yield amqp_uri
    with Connection(amqp_uri) as connection:
        for name in (QUEUE, SENDER_QUEUE):
            Queue(name).bind(connection.default_channel).delete()


def publish(amqp_uri, body, **properties):
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(
            json.dumps(body),
            exchange="",
            routing_key=QUEUE,
            content_type="application/json",
            delivery_mode=2,
            **properties,
        )


def dead_letters(amqp_uri):
    with Connection(amqp_uri) as connection:
        return (
            dead_letter_queue.bind(connection.default_channel)
            .queue_declare(passive=True)
            .message_count
        )


def test_a_store_outage_longer_than_the_delivery_limit_waits_instead(
    broker, container_factory, nameko_config
):
    container = container_factory(Flaky, nameko_config)
    container.start()
    body = {"n": uuid.uuid4().hex, "fail": FAILURES}
    publish(broker, body, headers={"x-trace": "kept"}, message_id="m-1")
    wait_for(lambda: len(calls) == FAILURES + 1, timeout=30)
    container.stop()
    assert calls == [body] * (FAILURES + 1)  # handled after the outage, once
    assert dead_letters(broker) == 0
    assert messaging.RETRIED_LATER.labels(QUEUE, "delayed")._value.get() == FAILURES


def test_a_message_held_for_its_sender_waits_too(broker, container_factory, nameko_config):
    container = container_factory(FlakyResults, nameko_config)
    container.start()
    uri = department_amqp_uri(broker, DEPARTMENT)
    user = broker_users.department_user(DEPARTMENT)
    body = {"n": uuid.uuid4().hex, "fail": FAILURES}
    with Connection(uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish(
            json.dumps(body),
            exchange=results_exchange,
            routing_key=f"result.{DEPARTMENT}",
            user_id=user,
            content_type="application/json",
            delivery_mode=2,
        )
    wait_for(lambda: len(calls) == FAILURES + 1, timeout=30)
    container.stop()
    assert calls == [(body, user)] * (FAILURES + 1)  # still knows its sender
    assert dead_letters(broker) == 0
    assert messaging.RETRIED_LATER.labels(SENDER_QUEUE, "held")._value.get() == FAILURES


def test_past_the_retry_limit_it_is_dead_lettered_with_the_reason(
    broker, container_factory, nameko_config, monkeypatch
):
    monkeypatch.setenv("TRANSIENT_RETRY_LIMIT", "3")
    container = container_factory(Flaky, nameko_config)
    container.start()
    publish(broker, {"n": uuid.uuid4().hex, "fail": -1})
    wait_for(lambda: dead_letters(broker) == 1, timeout=30)
    container.stop()
    assert len(calls) == 4  # the first try and three retries
    with Connection(broker) as connection:
        message = dead_letter_queue.bind(connection.default_channel).get()
        reason = message.headers["x-dead-letter-reason"]
        message.ack()
    assert "still failing after 3 retries" in reason and "the store is away" in reason
