"""Broker helpers for the tests."""

import time

from kombu import Connection


def take(amqp_uri, queue, timeout=15):
    """The next message on a queue (acked), or fail after timeout."""
    deadline = time.monotonic() + timeout
    with Connection(amqp_uri) as connection:
        bound = queue.bind(connection.default_channel)
        while time.monotonic() < deadline:
            message = bound.get(no_ack=True)
            if message is not None:
                return message
            time.sleep(0.05)
    raise AssertionError(f"nothing arrived on {queue.name} in {timeout}s")
