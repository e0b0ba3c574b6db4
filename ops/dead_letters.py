"""The dead-letter queue, for operators: see what waits there and why, send a message back
to the queue it failed in once the cause is fixed, or discard it deliberately, into a file
(docs/adr/0013).

Dead letters come in two shapes. The platform's consumers republish what they cannot
process with `x-dead-letter-reason`, `x-original-queue`, `x-original-exchange`,
`x-original-routing-key` and, for a result, `x-original-user-id` headers, never taken from
the message as it came (onestop/common/messaging.py). RabbitMQ moves what a department
consumer rejected with an `x-death` header (the department queues name the dead-letter
exchange); then only `x-death` is believed.

A replay publishes the message, persistent, confirmed and `mandatory`, to the queue it
failed in alone (through the default exchange: not to every queue bound to its original
exchange, whose other consumers had it already), and only then removes it from the
dead-letter queue. A department's result is sent again as that department's broker user,
to the results exchange with that department's routing key, so that routing still knows
who sent it (docs/adr/0005).

What it needs: the broker's administrator as AMQP_URI (no service user may read
`approval.dead`), and to replay a result, the departments' credentials
(BROKER_USERS_SECRET or DEPARTMENT_AMQP_URIS), which no service holds: the operator gives
both to the command alone (docs/operations.md).

Looking removes nothing, and never returns a message to the queue (RabbitMQ 4 drops a
message returned to a quorum queue 20 times, and the dead-letter queue has nowhere further
to send it): `walk` visits the messages waiting when it starts, one at a time; each is
replayed, discarded, or put back as a confirmed copy at the end of the queue before the
original is acknowledged. So at most one message is held at any moment (a crash returns
only that one), memory stays flat, and the order is kept. Each copy carries a key
(`x-dead-letter-key`) that names it alone, where a message id may name several copies.
"""

import base64
import hashlib
import json
import os
import stat
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pika
from pika.exceptions import AMQPChannelError, AMQPConnectionError, AMQPError

from onestop.common import broker_users, config
from onestop.common.messaging import without_dead_letter_headers
from onestop.contracts.topology import (
    DEAD_LETTER_QUEUE,
    RESULTS_EXCHANGE,
    RESULTS_QUEUE,
    result_routing_key,
)

REPLAYS_HEADER = "x-replays"
KEY_HEADER = "x-dead-letter-key"
BLOCKED_TIMEOUT_SECONDS = 60  # a broker alarm fails the command instead of hanging it
DEATHS = {
    "rejected": "the consumer of {queue} rejected it",
    "expired": "it expired in {queue}",
    "maxlen": "{queue} was full",
    "delivery_limit": "{queue} delivered it too often",
}


class ReplayFailed(Exception):
    """The message was not sent back; it stays in the dead-letter queue."""


class BrokerLost(Exception):
    """The connection broke while a message was being replayed: whether the copy arrived
    is not known (a replay again may deliver it twice; consumers are idempotent)."""


@dataclass
class DeadLetter:
    tag: int
    properties: pika.BasicProperties
    body: bytes
    new_key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def headers(self):
        return self.properties.headers or {}

    @property
    def _death(self):
        """RabbitMQ's record of the last dead-lettering, when RabbitMQ did it."""
        deaths = self.headers.get("x-death") or []
        return deaths[0] if deaths and isinstance(deaths[0], dict) else {}

    def _ours(self, name):
        """A header the platform wrote when it dead-lettered the message (none if RabbitMQ
        dead-lettered it: then such a header came with the message, from its sender)."""
        return None if self._death else self.headers.get(name)

    @property
    def envelope(self):
        try:
            body = json.loads(self.body)
        except Exception:  # anything a sender could put there, a thousand-deep list too
            return {}
        return body if isinstance(body, dict) else {}

    @property
    def key(self):
        """This copy's own name: the platform's key, or the one its put-back will carry."""
        return str(self._ours(KEY_HEADER) or self.new_key)

    @property
    def replays(self):
        try:
            return int(self.headers.get(REPLAYS_HEADER, 0))
        except (TypeError, ValueError):
            return 0

    @property
    def id(self):
        """The envelope's message id, else the AMQP message id, else a digest of the body."""
        return str(
            self.envelope.get("message_id")
            or self.properties.message_id
            or hashlib.sha256(self.body).hexdigest()[:32]
        )

    @property
    def queue(self):
        return self._ours("x-original-queue") or self._death.get("queue") or ""

    @property
    def sender(self):
        """The broker-validated sender (a department's result), if the message had one."""
        return self._ours("x-original-user-id") or self.properties.user_id

    @property
    def reason(self):
        if self._ours("x-dead-letter-reason"):
            return str(self._ours("x-dead-letter-reason"))
        if self._death:
            why = self._death.get("reason")
            return DEATHS.get(why, "dead-lettered from {queue} (" + str(why) + ")").format(
                queue=self._death.get("queue", "?")
            )
        return "unknown"

    @property
    def at(self):
        when = self._ours("x-dead-lettered-at") or self._death.get("time")
        if isinstance(when, datetime):
            return when.replace(tzinfo=when.tzinfo or timezone.utc).isoformat()
        return str(when) if when else None

    def summary(self):
        envelope = self.envelope
        return {
            "key": self.key,
            "id": self.id,
            "queue": self.queue,
            "reason": self.reason,
            "at": self.at,
            "type": envelope.get("type") or self.properties.type,
            "correlation_id": envelope.get("correlation_id") or self.properties.correlation_id,
            "sender": self.sender,
            "replays": self.replays,
        }

    def record(self):
        """Everything about the message, as one JSON-able dict (for a discard file)."""
        try:
            body = {"text": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            body = {"base64": base64.b64encode(self.body).decode()}
        return dict(
            self.summary(),
            headers=_jsonable(self.headers),
            content_type=self.properties.content_type,
            body=body,
        )

    def as_put_back(self):
        """Headers for a copy of this dead letter put back in the queue: what dead-lettering
        recorded, as the platform writes it (the sender too, which only its own user could
        send as the `user_id` property)."""
        headers = without_dead_letter_headers(self.headers)
        recorded = {
            "x-dead-letter-reason": self.reason,
            "x-original-queue": self.queue,
            "x-dead-lettered-at": self.at,
            "x-original-user-id": self.sender,
            KEY_HEADER: self.key,
        }
        headers.update({k: v for k, v in recorded.items() if v})
        return headers

    def copy_properties(self, headers, user_id=None):
        p = self.properties
        return pika.BasicProperties(
            content_type=p.content_type,
            content_encoding=p.content_encoding,
            headers=headers,
            delivery_mode=2,
            priority=p.priority,
            correlation_id=p.correlation_id,
            message_id=p.message_id,
            timestamp=p.timestamp,
            type=p.type,
            user_id=user_id,
            app_id=p.app_id,
        )


class DeadLetterQueue:
    """The dead-letter queue, one message at a time (`walk`): the message in hand is
    replayed, discarded, or else put back at the end when the walk moves on."""

    def __init__(self, amqp_uri=None, queue=DEAD_LETTER_QUEUE):
        self.amqp_uri = amqp_uri or config.amqp_uri()
        self.queue = queue
        self.connection = pika.BlockingConnection(_parameters(self.amqp_uri))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self._held = None  # the message in hand
        self._senders = {}  # department -> (connection, channel) as its broker user

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def count(self):
        try:
            return self.channel.queue_declare(self.queue, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                raise LookupError(
                    f"no queue {self.queue} in this virtual host: is AMQP_URI the mesh's?"
                ) from None
            raise

    def walk(self):
        """The messages waiting now, oldest first, each in hand until the next is asked for
        (or the walk ends): then, unless replayed or discarded, it is put back at the end."""
        for _ in range(self.count()):
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=False)
            if method is None:
                return
            letter = self._held = DeadLetter(method.delivery_tag, properties, body)
            try:
                yield letter
            finally:
                self._put_back_held()

    def replay(self, letter):
        """Send `letter` back where it failed, then remove it from the dead-letter queue."""
        if not letter.queue:
            raise ReplayFailed("it does not say which queue it failed in")
        headers = without_dead_letter_headers(letter.headers)
        headers[REPLAYS_HEADER] = letter.replays + 1
        if letter.sender:  # a result: as its department, where that department may write
            if letter.queue != RESULTS_QUEUE:
                raise ReplayFailed(
                    f"it names a sender ({letter.sender}) but failed in "
                    f"{letter.queue}, not in {RESULTS_QUEUE}"
                )
            department = broker_users.department_of_user(letter.sender)
            if department is None:
                raise ReplayFailed(
                    f"its sender {letter.sender!r} is not a department's broker user"
                )
            channel, exchange, routing_key = (
                self._sender(department),
                RESULTS_EXCHANGE,
                result_routing_key(department),
            )
            properties = letter.copy_properties(headers, user_id=letter.sender)
        else:
            channel, exchange, routing_key = self.channel, "", letter.queue
            properties = letter.copy_properties(headers)
        self._publish(channel, exchange, routing_key, letter.body, properties)
        self._settle(letter)

    def discard(self, letter, into):
        """Append `letter` to the JSON-lines file `into` (synced to disk), then remove it."""
        record = dict(letter.record(), discarded_at=datetime.now(timezone.utc).isoformat())
        with open_discard_file(into) as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())
        self._settle(letter)

    def close(self):
        try:
            self._put_back_held()
        finally:
            for connection, _ in self._senders.values():
                _quietly(connection.close)
            _quietly(self.connection.close)

    def _put_back_held(self):
        """A confirmed copy of the message in hand at the end of the queue, then the
        original acknowledged. With the channel gone there is nothing to do: the broker
        returns the message itself."""
        letter, self._held = self._held, None
        if letter is None or not self.channel.is_open:
            return
        self._publish(
            self.channel, "", self.queue, letter.body, letter.copy_properties(letter.as_put_back())
        )
        self._settle(letter)

    def _publish(self, channel, exchange, routing_key, body, properties):
        try:
            channel.basic_publish(exchange, routing_key, body, properties, mandatory=True)
        except pika.exceptions.UnroutableError:
            raise ReplayFailed(
                f"nothing takes it at {exchange or 'queue'} "
                f"{routing_key!r} (was the queue deleted?)"
            ) from None
        except pika.exceptions.NackError:
            raise ReplayFailed("the broker refused it (nack)") from None
        except AMQPConnectionError as exc:
            raise BrokerLost(f"the connection broke while sending it ({exc!r})") from None
        except AMQPChannelError as exc:
            raise ReplayFailed(f"the broker refused it ({exc!r})") from None

    def _settle(self, letter):
        if self._held is letter:
            self._held = None
        try:
            self.channel.basic_ack(letter.tag)
        except AMQPError as exc:
            raise BrokerLost(
                f"sent, but the connection broke before it was removed from the "
                f"dead-letter queue ({exc!r}): it is there again"
            ) from None

    def _sender(self, department):
        connection, channel = self._senders.get(department, (None, None))
        if channel is not None and channel.is_open:
            return channel
        if connection is not None:
            _quietly(connection.close)
        try:
            uri = broker_users.known_department_uri(department, self.amqp_uri)
        except (OSError, ValueError) as exc:
            raise ReplayFailed(
                f"no broker credentials for department {department} ({exc})"
            ) from None
        if uri is None:
            raise ReplayFailed(
                f"no broker credentials for department {department}: give this command "
                "BROKER_USERS_SECRET or DEPARTMENT_AMQP_URIS (no service has them: "
                "docs/operations.md, Dead letters)"
            )
        try:
            connection = pika.BlockingConnection(_parameters(uri))
            channel = connection.channel()
            channel.confirm_delivery()
        except (AMQPError, ValueError) as exc:
            raise ReplayFailed(
                f"cannot connect as {department}'s broker user ({type(exc).__name__})"
            ) from None
        self._senders[department] = (connection, channel)
        return channel


def open_discard_file(path):
    """The discard file, open for appending, readable by its owner alone (it holds whole
    messages: applicants' personal data); a new one's name synced to disk too.

    A new file is created 0600. An existing file of ours with wider permissions (an older
    discard file, one made by hand) is tightened to 0600 before anything is written to it.
    Refused (OSError, nothing written): a symbolic link, anything but a regular file, and a
    file another user owns (in a shared /tmp it may be planted to be read by its owner)."""
    # O_NONBLOCK: a FIFO planted under the name fails at once (ENXIO) instead of hanging
    flags = os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
        created = True
    except FileExistsError:
        fd = os.open(path, flags)  # a symbolic link: ELOOP
        created = False
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(f"{path} is not a regular file")
        if status.st_uid != os.geteuid():
            raise PermissionError(
                f"{path} belongs to another user (uid {status.st_uid}): refused, choose a new file"
            )
        if stat.S_IMODE(status.st_mode) != 0o600:
            os.fchmod(fd, 0o600)
        os.set_blocking(fd, True)
        file = os.fdopen(fd, "a", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise
    if created:
        try:
            directory = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError:
            file.close()
            raise
    return file


def _parameters(uri):
    parameters = pika.URLParameters(uri)
    parameters.blocked_connection_timeout = BLOCKED_TIMEOUT_SECONDS
    return parameters


def _jsonable(value):
    """AMQP header values as JSON can hold them (keys and bytes as text, times as ISO)."""
    if isinstance(value, dict):
        return {_text(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return _text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _quietly(close):
    try:
        close()
    except AMQPError:
        pass
