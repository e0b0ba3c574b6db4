"""AMQP consumers whose failure policy is chosen, not inherited (design §5, STYLE §4).

nameko acks a message whose handler raised. Here:
- the handler returns: ack (the handler persisted what it had to first);
- InvalidMessage (bad schema, unknown type, refused sender), or a body that cannot be
  decoded at all: the message is republished to the dead-letter exchange with the reason
  in its headers, then acked, and counted: it never blocks the queue;
- a store or broker outage, or an RPC that timed out: retried later without counting as a
  redelivery (a requeue would: RabbitMQ 4's quorum queues dead-letter a message requeued
  20 times, i.e. after about 20 s of outage). The message is republished, with confirms and
  all its headers plus `x-retry-count`, to the retry exchange of its next delay
  (onestop/contracts/topology.py: 1, 5, 15, then every 30 s), whose queue sends it back into
  its own queue when the delay is over; then the original is acked. A message sent by
  another broker user (a department's result: its authenticated `user_id` cannot be sent
  again by us) is held instead, unacknowledged, and handled again after the same delay in
  this process. After TRANSIENT_RETRY_LIMIT retries (default 120, about an hour) it is
  dead-lettered with the reason. When even the republish fails (the broker is away), the
  message is requeued after a pause, as before: its connection is usually gone, and a
  message returned by a closed connection does not count either;
- any other error: requeue once; when it fails again on redelivery it is
  dead-lettered with the error as its reason.
"""

import logging
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import partial

import eventlet
from amqp.exceptions import ChannelError
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Connection, Exchange
from kombu.exceptions import ContentDisallowed
from nameko.amqp.publish import Publisher
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled, RpcTimeout
from nameko.messaging import Consumer, QueueConsumer
from nameko.rpc import ReplyListener, Rpc, RpcConsumer
from prometheus_client import REGISTRY, Counter
from pymongo.errors import ConnectionFailure

from onestop.common import config
from onestop.common.broker_users import user_of_uri
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.topology import (
    dead_letter_exchange,
    DEAD_LETTER_ARGS,
    retry_delay,
    retry_exchange,
    retry_queue,
)

log = logging.getLogger(__name__)


def shared_counter(name, documentation, labels):
    """The process's counter `name`: made here, or the one the department SDK
    (departments/sdk/metrics.py) registered first in the same process."""
    try:
        return Counter(name, documentation, labels)
    except ValueError:
        return REGISTRY._names_to_collectors[name]


DEAD_LETTERED = shared_counter(
    "messages_dead_lettered_total", "Messages moved to the dead-letter exchange", ["queue", "cause"]
)
REDELIVERIES = shared_counter(
    "messages_requeued_total", "Messages requeued after a failed handler", ["queue", "cause"]
)
RETRIED_LATER = Counter(
    "messages_retried_later_total",
    "Messages whose handler met a transient failure, sent to a delay "
    "queue (how: delayed) or held in the consumer (how: held) to be "
    "handled again later",
    ["queue", "how"],
)
UNSETTLED = Counter(
    "messages_unsettled_total",
    "Acks or requeues lost to a broken connection (the broker redelivers)",
    ["queue"],
)
# the store, the broker or a service we ask over RPC is away (onestop/common/rpc.py)
TRANSIENT_ERRORS = (ConnectionFailure, ConnectionError, OSError, RpcTimeout)
RETRY_PAUSE_SECONDS = 1.0
RETRY_COUNT_HEADER = "x-retry-count"
DEFAULT_RETRY_LIMIT = 120  # 1 + 5 + 15 + 117 * 30 s: about an hour of outage


def retry_limit(variable="TRANSIENT_RETRY_LIMIT"):
    """How many times a transiently failing message is retried later before it is
    dead-lettered: `variable` (a handler may name its own, e.g. notify's deliveries),
    else TRANSIENT_RETRY_LIMIT."""
    value = config.env(variable) if variable != "TRANSIENT_RETRY_LIMIT" else None
    return int(value or config.env("TRANSIENT_RETRY_LIMIT", DEFAULT_RETRY_LIMIT))


def retries_of(message):
    """How many times the message was already retried later (0: never)."""
    try:
        return max(int((message.headers or {}).get(RETRY_COUNT_HEADER, 0)), 0)
    except (TypeError, ValueError):
        return 0


# what dead-lettering writes on a message (the platform's, and RabbitMQ's own): never taken
# from the message as it came (a sender could forge them), dropped again by a replay
DEAD_LETTER_HEADERS = frozenset(
    (
        "x-death",
        "x-first-death-exchange",
        "x-first-death-queue",
        "x-first-death-reason",
        "x-last-death-exchange",
        "x-last-death-queue",
        "x-last-death-reason",
        "x-delivery-count",
        "x-acquired-count",
        "x-dead-letter-reason",
        "x-dead-lettered-at",
        "x-dead-letter-key",
        "x-original-queue",
        "x-original-exchange",
        "x-original-routing-key",
        "x-original-user-id",
        RETRY_COUNT_HEADER,
    )
)  # a replayed message starts its retries afresh


def without_dead_letter_headers(headers):
    """The headers of a message minus those dead-lettering writes."""
    return {k: v for k, v in (headers or {}).items() if k not in DEAD_LETTER_HEADERS}


# -- what a service declares: its own queues and its own events exchange, nothing else -----
# The exchanges a service binds to or publishes on that are not its own (another service's
# `<source>.events`, `nameko-rpc`, approval.*) and the retry queues are the topology's: the
# topology job declares them (deploy/rabbitmq/definitions.json; declare_all locally), so a
# service's broker user needs no `configure` on them, which would let it delete them
# (docs/adr/0031). nameko and kombu declare a queue's exchange with the queue; here the
# exchange is only looked up (a passive declaration needs no right) and declared only when
# it is missing: a developer's fresh virtual host, a test, where the user is an
# administrator. A least-privilege user is refused that, which is the right failure: the
# topology job has not run.


def _exists(connection, entity):
    channel = connection.channel()
    try:
        if isinstance(entity, Exchange):
            channel.exchange_declare(entity.name, entity.type, passive=True)
        else:
            channel.queue_declare(entity.name, passive=True)
    except ChannelError:  # NOT_FOUND: the broker closed this channel
        return False
    channel.close()
    return True


def declare_if_missing(connection, entities):
    """Declare each exchange or queue (with its exchange and binding) of `entities` that
    does not exist yet; look up the others only. `connection`: anything with `.channel()`
    (a kombu Connection, or a channel's connection)."""
    for entity in entities:
        exchange = getattr(entity, "exchange", None)  # a queue's exchange comes first
        for each in (exchange, entity) if exchange is not None else (entity,):
            if not each.name or each.name.startswith("amq.") or _exists(connection, each):
                continue
            channel = connection.channel()
            if isinstance(each, Exchange):
                channel.exchange_declare(
                    each.name,
                    each.type,
                    durable=each.durable,
                    auto_delete=each.auto_delete,
                    arguments=each.arguments,
                )
            else:
                each.bind(channel).declare()
            channel.close()


def declared_elsewhere(exchange):
    """A copy of `exchange` that kombu never declares (Exchange(no_declare=True))."""
    return Exchange(
        exchange.name,
        type=exchange.type,
        durable=exchange.durable,
        auto_delete=exchange.auto_delete,
        delivery_mode=exchange.delivery_mode,
        arguments=exchange.arguments,
        no_declare=True,
    )


_ENSURED = set()  # per process: (broker URI, kind, name) looked up (or declared) already


def ensure_declared(amqp_uri, entities):
    """declare_if_missing once per process and broker URI for each entity, on a connection
    of its own."""
    todo = [e for e in entities if (amqp_uri, type(e).__name__, e.name) not in _ENSURED]
    if not todo:
        return
    with Connection(amqp_uri) as connection:
        declare_if_missing(connection, todo)
    _ENSURED.update((amqp_uri, type(e).__name__, e.name) for e in todo)


@contextmanager
def declared(amqp_uri, entities):
    """ensure_declared, then the block (a publish); when the block fails, they are looked
    up again the next time (deleted since? a virtual host made anew?)."""
    ensure_declared(amqp_uri, entities)
    try:
        yield
    except Exception:
        _ENSURED.difference_update((amqp_uri, type(e).__name__, e.name) for e in entities)
        raise


class OwnQueuesOnly:
    """Mixin for nameko's QueueConsumer: the queue of each consumer is declared (it is the
    service's own), its exchange only looked up (declared if missing), never declared by
    kombu. Done at every (re)connection, before kombu declares the queues."""

    def get_consumers(self, consumer_cls, channel):
        own = getattr(self.container, "service_name", None)
        for provider in self._providers:
            exchange = provider.queue.exchange
            if exchange is None or exchange.no_declare or not exchange.name:
                continue
            if exchange.name == f"{own}.events":
                continue  # its own events exchange: it may declare it
            declare_if_missing(channel.connection, [exchange])
            provider.queue.exchange = declared_elsewhere(exchange)
        return super().get_consumers(consumer_cls, channel)


class TopologyQueueConsumer(OwnQueuesOnly, QueueConsumer):
    """The queue consumer of RPC requests, RPC replies and broadcast event handlers."""


class TopologyRpcConsumer(RpcConsumer):
    queue_consumer = TopologyQueueConsumer()


class TopologyRpc(Rpc):
    """`@rpc` whose queue is bound to `nameko-rpc` without declaring the exchange."""

    rpc_consumer = TopologyRpcConsumer()


class TopologyReplyListener(ReplyListener):
    """RPC replies: the reply queue bound to `nameko-rpc` without declaring the exchange
    (the reply listener of onestop.common.rpc.TimedRpcProxy)."""

    queue_consumer = TopologyQueueConsumer()


class BroadcastEventHandler(EventHandler):
    """nameko's EventHandler (e.g. BROADCAST, without this module's failure policy) that
    binds to the source's exchange without declaring it."""

    queue_consumer = TopologyQueueConsumer()


rpc = TopologyRpc.decorator
broadcast_event_handler = BroadcastEventHandler.decorator


def dead_letter(amqp_uri, message, queue_name, reason, cause):
    """Republish a message to the dead-letter exchange with why it could not be processed."""
    headers = without_dead_letter_headers(message.headers)
    headers.update(
        {
            "x-dead-letter-reason": str(reason)[:1000],
            "x-original-queue": queue_name,
            "x-original-exchange": message.delivery_info.get("exchange", ""),
            "x-original-routing-key": message.delivery_info.get("routing_key", ""),
            "x-dead-lettered-at": datetime.now(timezone.utc).isoformat(),
            "x-dead-letter-key": uuid.uuid4().hex[:12],  # this one copy, for the operators' tool
        }
    )
    properties = {
        k: message.properties[k]
        for k in ("message_id", "correlation_id", "type")
        if message.properties.get(k)
    }
    if message.properties.get("user_id"):
        # the broker lets only that user send a user_id: kept as a header, so that a replay
        # (ops/dead_letters.py) can send it again as its sender
        headers["x-original-user-id"] = message.properties["user_id"]
    with declared(amqp_uri, [dead_letter_exchange]):
        Publisher(amqp_uri, use_confirms=True, delivery_mode=2, declare=[]).publish(
            message.body,
            exchange=dead_letter_exchange,
            routing_key=message.delivery_info.get("routing_key") or queue_name,
            headers=headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            **properties,
        )
    DEAD_LETTERED.labels(queue_name, cause).inc()
    log.warning("dead-lettered a message from %s: %s", queue_name, reason)


def send_to_retry(amqp_uri, message, queue_name, retries, delay):
    """Republish a message (confirmed) to the retry exchange of `delay`, with its headers
    and properties, so that it comes back into `queue_name` after the delay."""
    headers = without_dead_letter_headers(message.headers)
    headers[RETRY_COUNT_HEADER] = retries
    properties = {
        k: message.properties[k]
        for k in (
            "message_id",
            "correlation_id",
            "type",
            "user_id",
            "timestamp",
            "reply_to",
            "app_id",
            "priority",
        )
        if message.properties.get(k) is not None
    }
    with declared(amqp_uri, [retry_queue(delay)]):
        Publisher(amqp_uri, use_confirms=True, delivery_mode=2, mandatory=True, declare=[]).publish(
            message.body,
            exchange=retry_exchange(delay),
            routing_key=queue_name,
            headers=headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            **properties,
        )


class DeadLetteringQueueConsumer(OwnQueuesOnly, QueueConsumer):
    """nameko's queue consumer, except for a body that cannot be decoded (not what its
    content type says): kombu's consumer logs it and acknowledges it, gone without a trace;
    here the entrypoint that owns the queue dead-letters it, with the reason. The exchanges
    of its queues are looked up, not declared (OwnQueuesOnly)."""

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
    retry_limit_variable = "TRANSIENT_RETRY_LIMIT"  # a handler may name its own

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
            self._retry_later(message, queue_name, exc)
        elif message.delivery_info.get("redelivered"):
            self._dead_letter(message, queue_name, f"{type(exc).__name__}: {exc}", "error")
        else:
            REDELIVERIES.labels(queue_name, "error").inc()
            self._settle_message(message, requeue=True)

    def _retry_later(self, message, queue_name, exc):
        retries = retries_of(message)
        reason = f"{type(exc).__name__}: {exc}"
        if retries >= retry_limit(self.retry_limit_variable):
            self._dead_letter(
                message,
                queue_name,
                f"still failing after {retries} retries (transient failure): {reason}",
                "transient",
            )
            return
        delay = retry_delay(retries)
        amqp_uri = self.container.config["AMQP_URI"]
        sender = message.properties.get("user_id")
        if sender and sender != user_of_uri(amqp_uri):
            # only its sender may send it again with its user_id: keep it, unacknowledged
            # (neither a count toward the delivery limit nor lost: a broken connection
            # returns it to the queue), and handle it again after the delay
            message.headers[RETRY_COUNT_HEADER] = retries + 1
            RETRIED_LATER.labels(queue_name, "held").inc()
            eventlet.spawn_after(delay, self._handle_again, message)
            return
        try:
            send_to_retry(amqp_uri, message, queue_name, retries + 1, delay)
        except Exception as publish_exc:  # the broker is away: the old way
            log.warning(
                "could not send a message from %s to retry in %s s (%s: %s); requeueing it",
                queue_name,
                delay,
                type(publish_exc).__name__,
                publish_exc,
            )
            REDELIVERIES.labels(queue_name, "transient").inc()
            eventlet.sleep(RETRY_PAUSE_SECONDS)
            self._settle_message(message, requeue=True)
            return
        RETRIED_LATER.labels(queue_name, "delayed").inc()
        log.info(
            "%s on a message from %s: retry %d in %s s", reason, queue_name, retries + 1, delay
        )
        self._settle_message(message, requeue=False)

    def _handle_again(self, message):
        try:
            self.handle_message(message.payload, message)
        except Exception as exc:  # stopping: the broker returns the unacknowledged message
            log.warning(
                "could not handle a held message from %s again (%s: %s); the broker "
                "will redeliver it",
                self.queue.name,
                type(exc).__name__,
                exc,
            )

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
            log.warning(
                "could not %s a message from %s (%s: %s); the broker will redeliver it",
                "requeue" if requeue else "ack",
                self.queue.name,
                type(exc).__name__,
                exc,
            )

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
            self.container.spawn_worker(
                self,
                (body, message.properties.get("user_id")),
                {},
                context_data=self.unpack_message_headers(message),
                handle_result=handle_result,
            )
        except ContainerBeingKilled:
            self._settle_message(message, requeue=True)


class ReliableEventHandler(FailurePolicy, EventHandler):
    """`@event_handler(...)` with the failure policy above and a dead-letter exchange on its
    queue. `retry_limit_variable="X"`: the environment variable that sets how often this
    handler's transient failures are retried (default: TRANSIENT_RETRY_LIMIT's)."""

    def __init__(self, source_service, event_type, retry_limit_variable=None, **kwargs):
        super().__init__(source_service, event_type, **kwargs)
        if retry_limit_variable:
            self.retry_limit_variable = retry_limit_variable

    def setup(self):
        super().setup()
        self.queue.queue_arguments = dict(DEAD_LETTER_ARGS)


consume = ReliableConsumer.decorator
consume_with_sender = SenderAwareConsumer.decorator
event_handler = ReliableEventHandler.decorator
