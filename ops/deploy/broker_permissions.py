"""The broker rights of each service's own user, read from the service's nameko class.

Nothing here is written by hand per service: a nameko `ServiceContainer` is built (not
started) for each class of `onestop.service_classes.SERVICE_CLASSES` that `config.SERVICES`
names, and its extensions say what it does on the broker (docs/adr/0021-least-privilege.md):

- an `@rpc` method: consumes `rpc-<service>` bound to `nameko-rpc` (`<service>.*`), answers
  on `nameko-rpc` to the caller's reply routing key;
- an `RpcProxy`: its reply queue `rpc.reply-<service>-<uuid>`, requests on `nameko-rpc` to
  `<target>.<method>` only;
- an `@event_handler(source, event)`: its queue `evt-<source>-<event>--<service>.<method>`,
  bound to `<source>.events` with that one event type (a topic permission);
- an `EventDispatcher` (the outbox's events): publishes on `<service>.events`;
- a `Publisher` / `@consume` queue: that exchange / that queue;
- any consumer: the dead-letter exchange and the retry (delay) exchanges of
  onestop/common/messaging.py (publishing only).

`configure` (declare, delete) is given on its own queues and its own events exchange only:
the exchanges it binds to or publishes on that are not its own are the topology's, which
onestop/common/messaging.py looks up without declaring (docs/adr/0031).

A permission regex is matched against exchange and queue names alike; topic permissions
(routing keys on topic exchanges) narrow what a user may publish and bind. The gateway
talks to no broker and gets no user.
"""

import re
from dataclasses import dataclass, field

from kombu import Exchange
from nameko.containers import ServiceContainer
from nameko.events import BROADCAST, EventDispatcher, EventHandler, get_event_exchange
from nameko.messaging import Consumer, Publisher
from nameko.rpc import ReplyListener, RpcConsumer, RpcProxy

from onestop.common import config
from onestop.contracts import topology

RPC_EXCHANGE = "nameko-rpc"
REPLY_KEY = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
BROADCAST_ID = "[0-9a-f]{32}"
# building a container reads no broker or store: these only fill the config it wants
PLACEHOLDER_CONFIG = {"AMQP_URI": "amqp://placeholder/", "serializer": "json"}


@dataclass
class Needs:
    """Name patterns (already regular expressions) per right, and topic keys per exchange."""

    configure: set = field(default_factory=set)
    write: set = field(default_factory=set)
    read: set = field(default_factory=set)
    publish_keys: dict = field(default_factory=dict)  # topic exchange -> routing key patterns
    bind_keys: dict = field(default_factory=dict)  # topic exchange -> binding key patterns
    exchanges: set = field(default_factory=set)  # the names of the exchanges it uses

    def exchange(self, name, publish=(), bind=(), declares=False):
        """An exchange it publishes on or binds to; `declares`: its own, which it declares
        (the others are the topology's: onestop/common/messaging.py only looks them up)."""
        self.exchanges.add(name)
        if declares:
            self.configure.add(re.escape(name))
        if publish:
            self.write.add(re.escape(name))
            self.publish_keys.setdefault(name, set()).update(publish)
        if bind:
            self.read.add(re.escape(name))
            self.bind_keys.setdefault(name, set()).update(bind)

    def queue(self, pattern):
        """A queue the service declares, binds (write) and consumes (read)."""
        self.configure.add(pattern)
        self.write.add(pattern)
        self.read.add(pattern)


def _alternatives(patterns):
    return f"^(?:{'|'.join(sorted(patterns))})$" if patterns else "^$"


def _queue_pattern(name, unique, unique_pattern):
    """The queue name as a regex, its per-process part `unique` (a uuid, which changes with
    every start) matched by `unique_pattern`."""
    if unique and unique in name:
        before, _, after = name.partition(unique)
        return re.escape(before) + unique_pattern + re.escape(after)
    return re.escape(name)


def _broadcast_pattern(name):
    """A BROADCAST handler's queue: nameko appends a new identifier (uuid hex) per start."""
    return _queue_pattern(name, name.rsplit("-", 1)[-1], BROADCAST_ID)


def _retry_and_dead_letter(needs):
    needs.exchange(topology.DEAD_LETTER_EXCHANGE, publish={".*"})
    for seconds in topology.RETRY_DELAYS_SECONDS:
        name = topology.retry_name(seconds)
        # a fanout exchange (and its queue, of the same name): publishing only, both looked
        # up, never declared nor bound by the service
        needs.exchanges.add(name)
        needs.write.add(re.escape(name))


def needs_of(service_cls):
    """What a nameko service class does on the broker (its container built, not started)."""
    container = ServiceContainer(service_cls, dict(PLACEHOLDER_CONFIG))
    name = container.service_name
    needs = Needs()
    consumes = False
    for extension in container.extensions:
        if isinstance(extension, RpcConsumer):
            extension.setup()
            needs.queue(re.escape(extension.queue.name))
            needs.exchange(RPC_EXCHANGE, publish={REPLY_KEY}, bind={re.escape(f"{name}.*")})
            consumes = True
        elif isinstance(extension, ReplyListener):
            extension.setup()
            queue = extension.queue
            needs.queue(_queue_pattern(queue.name, queue.routing_key, REPLY_KEY))
            needs.exchange(RPC_EXCHANGE, bind={REPLY_KEY})
        elif isinstance(extension, RpcProxy):
            target = re.escape(extension.target_service)
            needs.exchange(RPC_EXCHANGE, publish={f"{target}\\.[^.]+"})
        elif isinstance(extension, EventHandler):
            extension.setup()
            queue_name = extension.queue.name
            broadcast = extension.handler_type == BROADCAST
            needs.queue(_broadcast_pattern(queue_name) if broadcast else re.escape(queue_name))
            exchange = extension.queue.exchange.name
            needs.exchange(exchange, bind={re.escape(extension.event_type)})
            consumes = True
        elif isinstance(extension, EventDispatcher):  # its own exchange, which it declares
            needs.exchange(get_event_exchange(name, {}).name, publish={".*"}, declares=True)
        elif isinstance(extension, Publisher):
            exchange = extension.exchange
            needs.exchange(exchange.name, publish={".*"}, declares=not exchange.no_declare)
        elif isinstance(extension, Consumer):
            queue = extension.queue
            needs.queue(re.escape(queue.name))
            needs.exchange(queue.exchange.name, bind={re.escape(queue.routing_key)})
            consumes = True
    if consumes:
        _retry_and_dead_letter(needs)
    return needs


def work_queues(service_cls):
    """The durable queues a service takes its work from, in declaration order: its event
    handlers' and consumers' (not RPC, replies, broadcasts, nor the token revocations every
    service keeps). What KEDA scales the service on (ops/deploy/kubernetes.py)."""
    from onestop.common.auth import TOKEN_REVOKED

    container = ServiceContainer(service_cls, dict(PLACEHOLDER_CONFIG))
    queues = []
    for extension in container.extensions:
        if isinstance(extension, EventHandler):
            if extension.handler_type == BROADCAST or extension.event_type == TOKEN_REVOKED:
                continue
            extension.setup()
            queues.append(extension.queue.name)
        elif isinstance(extension, Consumer) and not isinstance(extension, RpcConsumer):
            queues.append(extension.queue.name)
    return sorted(set(queues))


def permissions(needs):
    """configure / write / read regexes of a user in the vhost."""
    return {
        "configure": _alternatives(needs.configure),
        "write": _alternatives(needs.write),
        "read": _alternatives(needs.read),
    }


def topic_permissions(needs):
    """One topic permission per topic exchange the user publishes on or binds to."""
    exchanges = sorted(set(needs.publish_keys) | set(needs.bind_keys))
    return [
        {
            "exchange": exchange,
            "write": _alternatives(needs.publish_keys.get(exchange, ())),
            "read": _alternatives(needs.bind_keys.get(exchange, ())),
        }
        for exchange in exchanges
    ]


def topology_exchanges(services=None):
    """The exchanges the services use that are no department boundary's: `nameko-rpc` and
    every `<source>.events` (topic, durable), for the topology to declare
    (deploy/rabbitmq/definitions.json, declare_all): a service declares only its own."""
    services = broker_services() if services is None else services
    names = set()
    for service_cls in services.values():
        names |= needs_of(service_cls).exchanges
    names -= set(topology.BOUNDARY_EXCHANGES)
    return [Exchange(name, type="topic", durable=True) for name in sorted(names)]


def broker_services():
    """The services (config.SERVICES, data-driven) that connect to the broker, with their
    nameko classes."""
    from onestop.service_classes import service_class

    return {name: service_class(name) for name in config.SERVICES}


def service_grants(services=None):
    """service -> (permissions, topic permissions) for every nameko service of the mesh."""
    services = broker_services() if services is None else services
    grants = {}
    for name, service_cls in services.items():
        needs = needs_of(service_cls)
        grants[name] = (permissions(needs), topic_permissions(needs))
    return grants
