"""AMQP consumers whose failure policy is chosen, not inherited (design §5, STYLE §4).

nameko acks a message whose handler raised. Here:
- the handler returns: ack (the handler persisted what it had to first);
- InvalidMessage (bad schema, unknown type, refused sender), or a body that cannot be
  decoded at all: the message is republished to the dead-letter exchange with the reason
  in its headers, then acked, and counted: it never blocks the queue;
- a store or broker outage, or an RPC that timed out: requeue after a pause, so nothing is lost;
- any other error: requeue once; when it fails again on redelivery it is
  dead-lettered with the error as its reason.
"""
import logging
import uuid
from datetime import datetime, timezone
from functools import partial

import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu.exceptions import ContentDisallowed
from nameko.amqp.publish import Publisher
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled, RpcTimeout
from nameko.messaging import Consumer, QueueConsumer
from prometheus_client import REGISTRY, Counter
from pymongo.errors import ConnectionFailure

from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.topology import dead_letter_exchange, DEAD_LETTER_ARGS

log = logging.getLogger(__name__)



def shared_counter(name, documentation, labels):
    """The process's counter `name`: made here, or the one the department SDK
    (departments/sdk/metrics.py) registered first in the same process."""
    try:
        return Counter(name, documentation, labels)
    except ValueError:
        return REGISTRY._names_to_collectors[name]


DEAD_LETTERED = shared_counter("messages_dead_lettered_total",
                               "Messages moved to the dead-letter exchange", ["queue", "cause"])
REDELIVERIES = shared_counter("messages_requeued_total",
                              "Messages requeued after a failed handler", ["queue", "cause"])
UNSETTLED = Counter("messages_unsettled_total",
                    "Acks or requeues lost to a broken connection (the broker redelivers)",
                    ["queue"])
# the store, the broker or a service we ask over RPC is away (onestop/common/rpc.py)
TRANSIENT_ERRORS = (ConnectionFailure, ConnectionError, OSError, RpcTimeout)
RETRY_PAUSE_SECONDS = 1.0


# what dead-lettering writes on a message (the platform's, and RabbitMQ's own): never taken
# from the message as it came (a sender could forge them), dropped again by a replay
DEAD_LETTER_HEADERS = frozenset((
    "x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
    "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
    "x-delivery-count", "x-acquired-count",
    "x-dead-letter-reason", "x-dead-lettered-at", "x-dead-letter-key", "x-original-queue",
    "x-original-exchange", "x-original-routing-key", "x-original-user-id"))


def without_dead_letter_headers(headers):
    """The headers of a message minus those dead-lettering writes."""
    return {k: v for k, v in (headers or {}).items() if k not in DEAD_LETTER_HEADERS}


def dead_letter(amqp_uri, message, queue_name, reason, cause):
    """Republish a message to the dead-letter exchange with why it could not be processed."""
    headers = without_dead_letter_headers(message.headers)
    headers.update({
        "x-dead-letter-reason": str(reason)[:1000],
        "x-original-queue": queue_name,
        "x-original-exchange": message.delivery_info.get("exchange", ""),
        "x-original-routing-key": message.delivery_info.get("routing_key", ""),
        "x-dead-lettered-at": datetime.now(timezone.utc).isoformat(),
        "x-dead-letter-key": uuid.uuid4().hex[:12],  # this one copy, for the operators' tool
    })
    properties = {k: message.properties[k] for k in ("message_id", "correlation_id", "type")
                  if message.properties.get(k)}
    if message.properties.get("user_id"):
        # the broker lets only that user send a user_id: kept as a header, so that a replay
        # (ops/dead_letters.py) can send it again as its sender
        headers["x-original-user-id"] = message.properties["user_id"]
    Publisher(amqp_uri, use_confirms=True, delivery_mode=2, declare=[dead_letter_exchange]).publish(
        message.body, exchange=dead_letter_exchange,
        routing_key=message.delivery_info.get("routing_key") or queue_name,
        headers=headers, content_type=message.content_type,
        content_encoding=message.content_encoding, **properties)
    DEAD_LETTERED.labels(queue_name, cause).inc()
    log.warning("dead-lettered a message from %s: %s", queue_name, reason)


class DeadLetteringQueueConsumer(QueueConsumer):
    """nameko's queue consumer, except for a body that cannot be decoded (not what its
    content type says): kombu's consumer logs it and acknowledges it, gone without a trace;
    here the entrypoint that owns the queue dead-letters it, with the reason."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for provider, consumer in self._consumers.items():
            undecodable = getattr(provider, "undecodable", None)
            if undecodable is not None:
                consumer.on_decode_error = undecodable
        return consumers


class FailurePolicy:
    """Mixin for nameko Consumer subclasses: the policy described in the module docstring."""

    queue_consumer = DeadLetteringQueueConsumer()

    def undecodable(self, message, exc):
        if isinstance(exc, ContentDisallowed):
            reason = f"content type {message.content_type!r} is not accepted here (JSON only)"
        else:
            reason = f"the body is not what its content type ({message.content_type}) says: {exc}"
        self._dead_letter(message, self.queue.name, reason, "invalid")

    def handle_message_processed(self, message, result=None, exc_info=None):
        queue_name = self.queue.name
        if exc_info is None:
            self._settle_message(message, requeue=False)
            return
        exc = exc_info[1]
        if isinstance(exc, InvalidMessage):
            self._dead_letter(message, queue_name, exc, "invalid")
        elif isinstance(exc, TRANSIENT_ERRORS):
            REDELIVERIES.labels(queue_name, "transient").inc()
            eventlet.sleep(RETRY_PAUSE_SECONDS)
            self._settle_message(message, requeue=True)
        elif message.delivery_info.get("redelivered"):
            self._dead_letter(message, queue_name, f"{type(exc).__name__}: {exc}", "error")
        else:
            REDELIVERIES.labels(queue_name, "error").inc()
            self._settle_message(message, requeue=True)

    def _settle_message(self, message, requeue):
        """Ack or requeue; when the connection just broke (a broken pipe is not the amqp
        ConnectionError nameko expects, and would kill the whole container), leave it:
        the broker redelivers every unacknowledged message, and handlers are idempotent."""
        try:
            if requeue:
                self.queue_consumer.requeue_message(message)
            else:
                self.queue_consumer.ack_message(message)
        except (OSError, AmqpConnectionError) as exc:
            UNSETTLED.labels(self.queue.name).inc()
            log.warning("could not %s a message from %s (%s: %s); the broker will redeliver "
                        "it", "requeue" if requeue else "ack", self.queue.name,
                        type(exc).__name__, exc)

    def _dead_letter(self, message, queue_name, reason, cause):
        try:
            dead_letter(self.container.config["AMQP_URI"], message, queue_name, reason, cause)
        except Exception:  # the broker is away: keep the message, try again later
            log.exception("could not dead-letter; requeueing")
            eventlet.sleep(RETRY_PAUSE_SECONDS)
            self._settle_message(message, requeue=True)
            return
        self._settle_message(message, requeue=False)


class ReliableConsumer(FailurePolicy, Consumer):
    """`@consume(queue)` for the department boundary, with the failure policy above."""


class SenderAwareConsumer(ReliableConsumer):
    """`@consume_with_sender(queue)`: the handler gets `(body, sender)`, where sender is the
    message's AMQP `user_id` property (None when unset). RabbitMQ refuses a `user_id` that is
    not the publishing connection's user, so the sender is authenticated."""

    def handle_message(self, body, message):
        handle_result = partial(self.handle_result, message)
        try:
            self.container.spawn_worker(self, (body, message.properties.get("user_id")), {},
                                        context_data=self.unpack_message_headers(message),
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            self._settle_message(message, requeue=True)


class ReliableEventHandler(FailurePolicy, EventHandler):
    """`@event_handler(...)` with the failure policy above and a dead-letter exchange on its queue."""

    def setup(self):
        super().setup()
        self.queue.queue_arguments = dict(DEAD_LETTER_ARGS)


consume = ReliableConsumer.decorator
consume_with_sender = SenderAwareConsumer.decorator
event_handler = ReliableEventHandler.decorator
