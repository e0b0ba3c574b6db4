"""The dead-letter queue, for operators: see what waits there and why, send a message back
to the queue it failed in once the cause is fixed, or discard it deliberately, into a file.

Dead letters come in two shapes. The platform's consumers republish what they cannot
process with `x-dead-letter-reason`, `x-original-queue`, `x-original-exchange` and
`x-original-routing-key` headers (onestop/common/messaging.py); the broker moves what a
department consumer rejected with an `x-death` header (the department queues name the
dead-letter exchange). Both say which queue the message failed in.

A replay publishes the message, persistent and confirmed, to that queue alone (through
the default exchange: not to every queue bound to its original exchange, whose consumers
had it already), and only then removes it from the dead-letter queue. A department's
result carries its sender in the broker-validated `user_id` property (kept as the
`x-original-user-id` header when the platform dead-lettered it: only that user may send
it): it is replayed as that department's broker user, to the results exchange with its
original routing key, so that routing still knows who sent it (docs/adr/0005, 0013).
What is not picked stays in the queue, in its place.
"""
import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone

import pika
from pika.exceptions import AMQPError

from onestop.common import broker_users, config
from onestop.contracts.topology import DEAD_LETTER_QUEUE

REPLAYS_HEADER = "x-replays"
# the dead-lettering headers a replay drops (a new failure writes them afresh)
DEAD_LETTER_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue",
                       "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue",
                       "x-last-death-reason", "x-dead-letter-reason", "x-dead-lettered-at",
                       "x-original-queue", "x-original-exchange", "x-original-routing-key",
                       "x-original-user-id")


class ReplayFailed(Exception):
    """The message could not be sent back; it stays in the dead-letter queue."""


@dataclass
class DeadLetter:
    tag: int
    properties: pika.BasicProperties
    body: bytes

    @property
    def headers(self):
        return self.properties.headers or {}

    @property
    def _death(self):
        deaths = self.headers.get("x-death") or []
        return deaths[0] if deaths else {}

    @property
    def envelope(self):
        try:
            body = json.loads(self.body)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    @property
    def id(self):
        """The envelope's message id, else the AMQP message id, else a digest of the body."""
        return str(self.envelope.get("message_id") or self.properties.message_id
                   or hashlib.sha256(self.body).hexdigest()[:32])

    @property
    def queue(self):
        return self.headers.get("x-original-queue") or self._death.get("queue") or ""

    @property
    def exchange(self):
        return self.headers.get("x-original-exchange") or self._death.get("exchange") or ""

    @property
    def routing_key(self):
        keys = self._death.get("routing-keys") or [""]
        return self.headers.get("x-original-routing-key") or keys[0]

    @property
    def sender(self):
        """The broker-validated sender (a department's result), if the message had one."""
        return self.properties.user_id or self.headers.get("x-original-user-id")

    @property
    def reason(self):
        if self.headers.get("x-dead-letter-reason"):
            return str(self.headers["x-dead-letter-reason"])
        if self._death:
            queue, why = self._death.get("queue", "?"), self._death.get("reason")
            return {"rejected": f"the consumer of {queue} rejected it",
                    "expired": f"it expired in {queue}",
                    "maxlen": f"{queue} was full",
                    "delivery_limit": f"{queue} delivered it too often"}.get(
                        why, f"dead-lettered from {queue} ({why})")
        return "unknown"

    @property
    def at(self):
        when = self.headers.get("x-dead-lettered-at") or self._death.get("time")
        if isinstance(when, datetime):
            return when.replace(tzinfo=when.tzinfo or timezone.utc).isoformat()
        return str(when) if when else None

    def summary(self):
        envelope = self.envelope
        return {"id": self.id, "queue": self.queue, "reason": self.reason, "at": self.at,
                "type": envelope.get("type") or self.properties.type,
                "correlation_id": envelope.get("correlation_id")
                or self.properties.correlation_id,
                "sender": self.sender, "replays": self.headers.get(REPLAYS_HEADER, 0)}

    def record(self):
        """Everything about the message, as one JSON-able dict (for a discard file)."""
        try:
            body = {"text": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"base64": base64.b64encode(self.body).decode()}
        return dict(self.summary(), exchange=self.exchange, routing_key=self.routing_key,
                    headers=json.loads(json.dumps(self.headers, default=str)),
                    content_type=self.properties.content_type, body=body)


class DeadLetterQueue:
    """A connection to the dead-letter queue: `fetch` takes messages without removing them;
    `replay` or `discard` removes one; what is left returns to the queue on `close`."""

    def __init__(self, amqp_uri=None, queue=DEAD_LETTER_QUEUE):
        self.amqp_uri = amqp_uri or config.amqp_uri()
        self.queue = queue
        self.connection = pika.BlockingConnection(pika.URLParameters(self.amqp_uri))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self._senders = {}  # department -> (connection, channel) as its broker user

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for connection, _ in self._senders.values():
            _quietly(connection.close)
        _quietly(self.connection.close)  # unacknowledged messages go back to the queue

    def count(self):
        try:
            return self.channel.queue_declare(self.queue, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                raise LookupError(f"no queue {self.queue} in this virtual host: is AMQP_URI "
                                  "the mesh's?") from None
            raise

    def fetch(self, limit):
        letters = []
        while len(letters) < limit:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=False)
            if method is None:
                break
            letters.append(DeadLetter(method.delivery_tag, properties, body))
        return letters

    def replay(self, letter):
        """Send `letter` back where it failed, then remove it from the dead-letter queue."""
        if not letter.queue:
            raise ReplayFailed("it does not say which queue it failed in")
        headers = {k: v for k, v in letter.headers.items() if k not in DEAD_LETTER_HEADERS}
        headers[REPLAYS_HEADER] = int(letter.headers.get(REPLAYS_HEADER, 0)) + 1
        p = letter.properties
        properties = pika.BasicProperties(
            content_type=p.content_type, content_encoding=p.content_encoding, headers=headers,
            delivery_mode=2, priority=p.priority, correlation_id=p.correlation_id,
            message_id=p.message_id, timestamp=p.timestamp, type=p.type,
            user_id=letter.sender, app_id=p.app_id)
        if letter.sender:  # as its sender, where the sender may write
            channel, exchange, routing_key = (self._sender(letter.sender), letter.exchange,
                                              letter.routing_key)
        else:
            channel, exchange, routing_key = self.channel, "", letter.queue
        try:
            channel.basic_publish(exchange, routing_key, letter.body, properties,
                                  mandatory=True)
        except pika.exceptions.UnroutableError:
            raise ReplayFailed(f"nothing takes it at {exchange or 'queue'} "
                               f"{routing_key!r} (was the queue deleted?)") from None
        except (pika.exceptions.NackError, AMQPError) as exc:
            raise ReplayFailed(f"the broker refused it ({type(exc).__name__}: {exc})") from None
        self.channel.basic_ack(letter.tag)

    def discard(self, letter, into):
        """Append `letter` to the JSON-lines file `into` (synced to disk), then remove it."""
        record = dict(letter.record(), discarded_at=datetime.now(timezone.utc).isoformat())
        with open(into, "a", encoding="utf-8") as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())
        self.channel.basic_ack(letter.tag)

    def _sender(self, user):
        department = broker_users.department_of_user(user)
        if department is None:
            raise ReplayFailed(f"its sender {user!r} is not a department's broker user")
        if department not in self._senders:
            uri = broker_users.department_uris([department], self.amqp_uri).get(department)
            if uri is None:
                raise ReplayFailed(f"no broker credentials for department {department} "
                                   "(DEPARTMENT_AMQP_URIS)")
            try:
                connection = pika.BlockingConnection(pika.URLParameters(uri))
            except AMQPError as exc:
                raise ReplayFailed(f"cannot connect as {user} ({type(exc).__name__})") from None
            channel = connection.channel()
            channel.confirm_delivery()
            self._senders[department] = (connection, channel)
        return self._senders[department][1]


def _quietly(close):
    try:
        close()
    except AMQPError:
        pass
