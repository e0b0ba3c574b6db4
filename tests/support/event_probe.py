"""See which platform events a running mesh published: a queue of our own, bound to one
service's event exchange (declared the way nameko declares it) before the action."""

import time
import uuid

from kombu import Connection, Queue, binding
from nameko.standalone.events import get_event_exchange


class EventProbe:
    def __init__(self, amqp_uri, service, event_types):
        self.connection = Connection(amqp_uri)
        exchange = get_event_exchange(service, {})
        self.queue = Queue(
            f"probe-{service}-{uuid.uuid4().hex[:8]}",
            auto_delete=True,
            bindings=[binding(exchange, routing_key=t) for t in event_types],
        )
        self.channel = self.connection.channel()
        self.bound = self.queue(self.channel)
        self.bound.declare()
        self.seen = []

    def drain(self):
        while True:
            message = self.bound.get(no_ack=True)
            if message is None:
                return self.seen
            self.seen.append((message.delivery_info["routing_key"], message.payload))

    def wait_for(self, predicate, timeout=30):
        """The events seen once `predicate(events)` holds; AssertionError after the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.drain()
            if predicate(events):
                return events
            if time.monotonic() > deadline:
                raise AssertionError(f"events seen: {events}")
            time.sleep(0.1)

    def close(self):
        try:
            self.bound.delete()
        finally:
            self.connection.release()
