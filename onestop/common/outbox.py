"""The transactional outbox: messages are stored with the state change that caused them,
published from the store, and removed once the broker confirmed them.

A document carries `outbox.<message_id>` entries written in the same update as
the state change, with `outbox_pending: true` and `updated_ts` (epoch seconds: the
embedded store compares numbers reliably, datetimes not). `flush` publishes them; a periodic sweep re-publishes any
left behind by a crash. Consumers are idempotent, so a re-send after a crash
between publish and removal is harmless.
"""

import logging
import uuid
from dataclasses import dataclass, field

import eventlet
from eventlet.event import Event
from eventlet.greenpool import GreenPool
from nameko.events import EventDispatcher
from nameko.extensions import DependencyProvider
from nameko.messaging import Publisher
from prometheus_client import Counter

from onestop.common.messaging import declared_elsewhere, ensure_declared

log = logging.getLogger(__name__)

PUBLISH_FAILURES = Counter(
    "outbox_publish_failures_total",
    "Outbox messages whose publish failed (kept for retry)",
    ["kind"],
)
REPUBLISHED = Counter(
    "outbox_republished_total",
    "Outbox messages published by the sweep (left behind by a crash or failure)",
    ["kind"],
)


def entry(kind, body, **route):
    """One outbox entry: kind is 'event' (nameko event, route has event_type) or 'amqp'
    (route has routing_key, and may have `properties`: AMQP properties such as message_id
    and correlation_id, passed to the publish)."""
    return {"kind": kind, "body": body, **route}


def event(event_type, body):
    """An outbox entry for a nameko event of this service."""
    return entry("event", body, event_type=event_type)


def with_ids(messages):
    """Outbox entries keyed by a new message id each, as a document stores them."""
    return {uuid.uuid4().hex: message for message in messages}


def flush(collection, doc_id, outbox, publishers, concurrently=False):
    """Publish the given outbox entries of one document and remove each once confirmed.

    publishers: kind -> callable(entry). Returns the number published.
    """
    published = 0
    for message_id in _publish(doc_id, outbox, publishers, concurrently):
        collection.update_one({"_id": doc_id}, {"$unset": {f"outbox.{message_id}": ""}})
        published += 1
    return published


def _publish(doc_id, outbox, publishers, concurrently=False):
    """Publish each entry; the ids of those the broker took (confirmed), in entry order.

    concurrently: all at once, each from its own green thread (own channel from the
    publisher's pool), so one write's K messages wait for their confirms together rather
    than one after the other; for entries whose relative order does not matter.
    """
    items = list(outbox.items())
    if concurrently and len(items) > 1:
        pile = eventlet.GreenPile(len(items))
        for message_id, item in items:
            pile.spawn(_publish_one, doc_id, message_id, item, publishers)
        return [message_id for message_id in pile if message_id is not None]
    return [
        message_id
        for message_id, item in items
        if _publish_one(doc_id, message_id, item, publishers) is not None
    ]


def _publish_one(doc_id, message_id, item, publishers):
    try:
        publishers[item["kind"]](item)
    except Exception as exc:
        PUBLISH_FAILURES.labels(item["kind"]).inc()
        log.warning(
            "publish of outbox entry %s of %s failed (%s: %s); the sweep will retry",
            message_id,
            doc_id,
            type(exc).__name__,
            exc,
        )
        return None
    return message_id


def settle(
    collection, doc_id, rev, outbox, publishers, alone=False, concurrently=False, later=None
):
    """Flush the given entries, then clear the pending flag only if the document's whole
    outbox is empty (entries of another writer that crashed before publishing stay pending
    for the sweep) and nothing was written since we looked (every writer bumps `rev`).

    alone: the writer knows these entries were the document's whole outbox at revision
    `rev` (it wrote them over an empty outbox, by compare-and-set or insert). Then, when
    every entry was published and the document is still at `rev`, one update removes them
    and clears the flag (one store round trip instead of one per entry plus two); otherwise
    the general path below.

    later: a `Settlements`; with `alone`, once every entry is published, the clearing is
    left to it (the document's next write, or one update shortly after) and settle returns
    without a store round trip.
    """
    if alone:
        if later is not None:
            later.publishing(doc_id, rev)
        sent = []
        try:
            sent = _publish(doc_id, outbox, publishers, concurrently)
        finally:  # also when the publishing green thread is killed: nobody waits in vain
            if later is not None:
                later.published(collection, doc_id, rev, sent if len(sent) == len(outbox) else None)
        if len(sent) == len(outbox):
            if later is None:
                remove_published(collection, doc_id, rev, sent)
            return len(sent)
        _clear_each(collection, doc_id, sent)
        published = len(sent)
    else:
        published = flush(collection, doc_id, outbox, publishers, concurrently)
    _clear_flag_if_empty(collection, doc_id)
    return published


def clear(collection, doc_id, rev, message_ids):
    """Remove published entries that were the document's whole outbox at `rev`, and the
    pending flag, in one update if the document is still at `rev`; True if it was."""
    cleared = collection.update_one(
        {"_id": doc_id, "rev": rev},
        {
            "$unset": {f"outbox.{message_id}": "" for message_id in message_ids},
            "$set": {"outbox_pending": False},
        },
    )
    return cleared.matched_count == 1


def remove_published(collection, doc_id, rev, message_ids):
    """Remove entries published at `rev`: in one update if the document is still at `rev`
    (`clear`), else one by one, and the flag if nothing else waits."""
    if not clear(collection, doc_id, rev, message_ids):
        _clear_each(collection, doc_id, message_ids)
        _clear_flag_if_empty(collection, doc_id)


def _clear_each(collection, doc_id, message_ids):
    for message_id in message_ids:
        collection.update_one({"_id": doc_id}, {"$unset": {f"outbox.{message_id}": ""}})


def _clear_flag_if_empty(collection, doc_id):
    current = collection.find_one({"_id": doc_id}, {"outbox": 1, "rev": 1})
    if current is not None and not current.get("outbox"):
        collection.update_one(
            {"_id": doc_id, "rev": current.get("rev")}, {"$set": {"outbox_pending": False}}
        )


@dataclass
class Published:
    """A document's outbox entries published (or being published) at revision `rev`."""

    rev: int
    collection: object = None  # where to remove them from, once known
    message_ids: set = None  # None while the publish is under way, or when it failed
    known: Event = field(default_factory=Event)  # sent when the publish has ended


class Settlements(DependencyProvider):
    """Published outbox entries not yet removed from their documents, in one process.

    A writer that publishes a document's whole outbox hands the removal here
    (`publishing`, then `published`). The document's next write from this process removes
    them in its own update: it `take`s them when it has read the document at the same
    revision (waiting, if their publish is still under way, for the broker's confirms).
    Otherwise one update `delay` seconds later does (`clear`, conditioned on the revision;
    when another process wrote in between, the entries are removed one by one and the flag
    checked, as `settle` does). So a document written several times in a burst (routing's
    workflow: the tasks sent, then the results) costs one store write per change instead
    of two. Nothing is lost if the process dies first: the entries stay pending and the
    sweep re-sends them (consumers are idempotent). As a nameko dependency it is one per
    service container; what still waits is removed when the container stops, before the
    store client closes (Storage.stop).
    """

    closes_before_store = True  # Storage.stop closes it before the store client

    def __init__(self, delay=0.25, publish_wait=5.0):
        self.delay = delay
        self.publish_wait = publish_wait
        # doc_id -> what was published at which revision (Published)
        self.waiting = {}
        self._timed = GreenPool()  # the delayed clears under way (close waits for them)
        self._closing = None

    def get_dependency(self, worker_ctx):
        return self

    def stop(self):
        self.close()

    def publishing(self, doc_id, rev):
        self.waiting[doc_id] = Published(rev=rev)

    def published(self, collection, doc_id, rev, message_ids):
        """The publish of `rev`'s entries ended: `message_ids` all confirmed, or None."""
        waiting = self.waiting.get(doc_id)
        if waiting is None or waiting.rev != rev:
            return
        if message_ids is None:  # the writer settles what it can itself
            del self.waiting[doc_id]
        else:
            waiting.collection, waiting.message_ids = collection, set(message_ids)
            eventlet.spawn_after(self.delay, self._timed.spawn_n, self._clear, doc_id, rev)
        waiting.known.send()

    def add(self, collection, doc_id, rev, message_ids):
        """Entries of `rev` already published, to be removed shortly."""
        self.publishing(doc_id, rev)
        self.published(collection, doc_id, rev, message_ids)

    def take(self, doc_id, rev):
        """The ids published at `rev`, for a write over `rev` to remove in its update."""
        waiting = self.waiting.get(doc_id)
        if waiting is None or waiting.rev != rev:
            return set()
        if not waiting.known.ready():
            with eventlet.Timeout(self.publish_wait, False):
                waiting.known.wait()
        if self.waiting.get(doc_id) is not waiting or waiting.message_ids is None:
            return set()
        del self.waiting[doc_id]
        return waiting.message_ids

    def _clear(self, doc_id, rev):
        waiting = self.waiting.get(doc_id)
        if waiting is None or waiting.rev != rev or waiting.message_ids is None:
            return  # taken by a later write, or replaced by a later revision's entries
        del self.waiting[doc_id]
        try:
            remove_published(waiting.collection, doc_id, rev, waiting.message_ids)
        except Exception as exc:  # the store is away: the entries stay for the sweep
            log.warning(
                "could not clear the sent outbox entries of %s (%s: %s); the sweep "
                "will re-send them",
                doc_id,
                type(exc).__name__,
                exc,
            )

    def close(self):
        """Clear what still waits, and wait for the delayed clears under way. Called by the
        container's stop and by the store's (Storage.stop, before its client closes), at
        once: the second caller waits for the first one's work instead of racing it."""
        closing = self._closing
        if closing is None:
            closing = self._closing = eventlet.spawn(self._close_all)
        try:
            closing.wait()
        finally:
            if self._closing is closing:
                self._closing = None

    def _close_all(self):
        for doc_id, waiting in list(self.waiting.items()):
            self._clear(doc_id, waiting.rev)
        self._timed.waitall()


def sweep(collection, publishers, now, older_than_seconds=5, limit=200):
    """Re-publish outbox entries of documents last written more than a few seconds ago,
    oldest first. A document whose entries could not all be published is stamped as just
    tried (`updated_ts`), so it goes to the back of the line: a few hundred entries the
    broker keeps refusing never starve the ones behind them."""
    cutoff = now.timestamp() - older_than_seconds
    count = 0
    for doc in list(
        collection.find(
            {"outbox_pending": True, "updated_ts": {"$lt": cutoff}}, {"outbox": 1, "rev": 1}
        )
        .sort("updated_ts", 1)
        .limit(limit)
    ):
        outbox = doc.get("outbox") or {}
        published = settle(collection, doc["_id"], doc.get("rev"), outbox, publishers)
        if published:
            REPUBLISHED.labels("any").inc(published)
        if published < len(outbox):
            collection.update_one(
                {"_id": doc["_id"], "outbox_pending": True},
                {"$set": {"updated_ts": now.timestamp()}},
            )
        count += published
    return count


class Outbox(DependencyProvider):
    """The one way a service stores a change together with its messages and publishes them.

    A service declares one (`outbox = Outbox("workflows", tasks=tasks_exchange)`) next to its
    `Storage`; its store writes a document with `outbox.<id>` entries in the same update as
    the change (`MongoStore` helpers). Then the worker calls `self.outbox.publish(...)`:
    the entries go out with publisher confirms (events to `<service>.events`, department
    tasks to the `tasks` exchange), and are removed once confirmed. A sweep, run by the
    provider itself every `sweep_interval` seconds over the named collections, re-sends what
    a crash or a broker outage left behind. With `settle_later`, removals are handed to a
    `Settlements` so that the document's next write removes them (docs/adr/0011).

    The provider reuses nameko's own `EventDispatcher` and `Publisher`, bound to the same
    container, so context headers and confirms behave as elsewhere in nameko.
    """

    closes_before_store = True  # Storage.stop closes it before the store client

    def __init__(
        self,
        *collections,
        tasks=None,
        mandatory_events=False,
        settle_later=False,
        settle_delay=0.25,
        sweep_interval=2.0,
        sweep_after_seconds=5,
    ):
        self.collections = collections
        self.tasks_exchange = tasks
        self.mandatory_events = mandatory_events
        self.settle_later = settle_later
        self.settle_delay = settle_delay
        self.sweep_interval = sweep_interval
        self.sweep_after_seconds = sweep_after_seconds
        self.events = None
        self.tasks = None
        self.settlements = None

    def bind(self, container, attr_name):
        instance = super().bind(container, attr_name)
        instance.events = EventDispatcher(mandatory=self.mandatory_events).bind(
            container, f"{attr_name}_events"
        )
        if self.tasks_exchange is not None:
            # the topology's exchange: looked up in setup, never declared by the service
            instance.tasks = Publisher(
                exchange=declared_elsewhere(self.tasks_exchange), mandatory=True
            ).bind(container, f"{attr_name}_tasks")
        instance.settlements = Settlements(delay=self.settle_delay) if self.settle_later else None
        return instance

    def setup(self):
        self.events.setup()
        if self.tasks is not None:
            ensure_declared(self.container.config["AMQP_URI"], [self.tasks_exchange])
            self.tasks.setup()

    def start(self):
        self.container.spawn_managed_thread(self._sweep_forever)

    def stop(self):
        self.close()

    def close(self):
        """Remove what was published and still waits to be removed (before the store's
        client closes: `Storage.stop` calls this first)."""
        if self.settlements is not None:
            self.settlements.close()

    def get_dependency(self, worker_ctx):
        return OutboxPublisher(self, self._publishers(worker_ctx))

    def _store(self):
        for dependency in self.container.dependencies:  # the Storage beside this one
            if getattr(dependency, "provides_store", False):
                return dependency.store
        raise RuntimeError(f"{self.container.service_name} declares an Outbox without a Storage")

    def _publishers(self, worker_ctx=None):
        dispatch = (
            self.events.get_dependency(worker_ctx)
            if worker_ctx
            else (
                lambda event_type, body: self.events.publisher.publish(
                    body, exchange=self.events.exchange, routing_key=event_type
                )
            )
        )
        publishers = {"event": lambda e: dispatch(e["event_type"], e["body"])}
        if self.tasks is not None:
            publish_task = (
                self.tasks.get_dependency(worker_ctx)
                if worker_ctx
                else (
                    lambda body, routing_key, **properties: self.tasks.publisher.publish(
                        body, exchange=self.tasks.exchange, routing_key=routing_key, **properties
                    )
                )
            )
            # an entry's `properties` (message_id, correlation_id) become the AMQP message's
            publishers["amqp"] = lambda e: publish_task(
                e["body"], routing_key=e["routing_key"], **e.get("properties", {})
            )
        return publishers

    def collection(self, name=None):
        return self._store().outbox_collection(name or self.collections[0])

    def sweep(self, now):
        """Re-publish entries left behind in every collection; the number published."""
        return sum(
            sweep(
                self.collection(name),
                self._publishers(),
                now,
                older_than_seconds=self.sweep_after_seconds,
            )
            for name in self.collections
        )

    def _sweep_forever(self):
        from onestop.common.clock import utcnow

        while True:
            eventlet.sleep(self.sweep_interval)
            try:
                self.sweep(utcnow())
            except Exception as exc:  # the store or broker away: the next round retries
                log.warning(
                    "outbox sweep of %s failed (%s: %s); retrying",
                    self.container.service_name,
                    type(exc).__name__,
                    exc,
                )


class OutboxPublisher:
    """What a worker sees of its service's `Outbox`: domain-named steps, no collections."""

    def __init__(self, provider, publishers):
        self._provider = provider
        self._publishers = publishers

    def publish(self, doc_id, rev, entries, collection=None, alone=False, concurrently=False):
        """Publish `entries`, stored with revision `rev` of the document, and remove them.
        alone: they were the document's whole outbox at `rev` (one update clears them)."""
        return settle(
            self._provider.collection(collection),
            doc_id,
            rev,
            entries,
            self._publishers,
            alone=alone,
            concurrently=concurrently,
            later=self._provider.settlements if alone else None,
        )

    def publish_stored(self, doc, collection=None):
        """Publish what a document read back holds in its outbox."""
        if doc and doc.get("outbox"):
            self.publish(doc["_id"], doc.get("rev"), doc["outbox"], collection)

    def take_published(self, doc_id, rev):
        """Entries published at `rev`, for the next write over `rev` to remove in its update."""
        settlements = self._provider.settlements
        return settlements.take(doc_id, rev) if settlements is not None else set()

    def remove_later(self, doc_id, rev, message_ids, collection=None):
        """Entries already published that a failed write did not remove: removed shortly."""
        self._provider.settlements.add(
            self._provider.collection(collection), doc_id, rev, message_ids
        )
