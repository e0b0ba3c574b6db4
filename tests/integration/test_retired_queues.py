"""Queues of entrypoints that no longer exist are deleted by the runner's broker check (and
the topology job): left bound, each would collect a copy of every event for nobody."""

import pytest
from kombu import Connection, Exchange, Queue

from onestop.contracts.topology import RETIRED_QUEUES, retire_queues


def queue_exists(connection, name):
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
        return True
    except Exception:
        return False
    finally:
        if channel.is_open:
            channel.close()


@pytest.fixture
def connection(amqp_uri):
    with Connection(amqp_uri) as connection:
        yield connection


def test_a_retired_queue_holding_events_is_deleted(connection):
    exchange = Exchange("intake.events", type="topic", durable=True)
    name = RETIRED_QUEUES[0]
    queue = Queue(name, exchange, routing_key="application_submitted", durable=True)
    queue(connection.default_channel).declare()
    producer = connection.Producer()
    producer.publish(
        {"application_id": "a-1"}, exchange=exchange, routing_key="application_submitted"
    )
    assert queue_exists(connection, name)

    assert retire_queues(connection.channel()) == [name]

    assert not queue_exists(connection, name)


def test_absent_retired_queues_are_fine(connection):
    retire_queues(connection.channel())
    assert retire_queues(connection.channel()) == []
    assert not any(queue_exists(connection, name) for name in RETIRED_QUEUES)
