"""The transactional outbox: messages are stored with the state change that caused them,
published from the store, and removed once the broker confirmed them.

A document carries `outbox.<message_id>` entries written in the same update as
the state change, with `outbox_pending: true` and `updated_ts` (epoch seconds: the
embedded store compares numbers reliably, datetimes not). `flush` publishes them; a periodic sweep re-publishes any
left behind by a crash. Consumers are idempotent, so a re-send after a crash
between publish and removal is harmless.
"""
import logging

import eventlet
from prometheus_client import Counter

log = logging.getLogger(__name__)

PUBLISH_FAILURES = Counter("outbox_publish_failures_total",
                           "Outbox messages whose publish failed (kept for retry)", ["kind"])
REPUBLISHED = Counter("outbox_republished_total",
                      "Outbox messages published by the sweep (left behind by a crash or failure)",
                      ["kind"])


def entry(kind, body, **route):
    """One outbox entry: kind is 'event' (nameko event, route has event_type) or 'amqp'."""
    return {"kind": kind, "body": body, **route}


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
    return [message_id for message_id, item in items
            if _publish_one(doc_id, message_id, item, publishers) is not None]


def _publish_one(doc_id, message_id, item, publishers):
    try:
        publishers[item["kind"]](item)
    except Exception as exc:
        PUBLISH_FAILURES.labels(item["kind"]).inc()
        log.warning("publish of outbox entry %s of %s failed (%s: %s); the sweep will "
                    "retry", message_id, doc_id, type(exc).__name__, exc)
        return None
    return message_id


def settle(collection, doc_id, rev, outbox, publishers, alone=False, concurrently=False):
    """Flush the given entries, then clear the pending flag only if the document's whole
    outbox is empty (entries of another writer that crashed before publishing stay pending
    for the sweep) and nothing was written since we looked (every writer bumps `rev`).

    alone: the writer knows these entries were the document's whole outbox at revision
    `rev` (it wrote them over an empty outbox, by compare-and-set or insert). Then, when
    every entry was published and the document is still at `rev`, one update removes them
    and clears the flag (one store round trip instead of one per entry plus two); otherwise
    the general path below.
    """
    if alone:
        sent = _publish(doc_id, outbox, publishers, concurrently)
        if len(sent) == len(outbox):
            cleared = collection.update_one(
                {"_id": doc_id, "rev": rev},
                {"$unset": {f"outbox.{message_id}": "" for message_id in sent},
                 "$set": {"outbox_pending": False}})
            if cleared.matched_count == 1:
                return len(sent)
        for message_id in sent:
            collection.update_one({"_id": doc_id}, {"$unset": {f"outbox.{message_id}": ""}})
        published = len(sent)
    else:
        published = flush(collection, doc_id, outbox, publishers, concurrently)
    current = collection.find_one({"_id": doc_id}, {"outbox": 1, "rev": 1})
    if current is not None and not current.get("outbox"):
        collection.update_one({"_id": doc_id, "rev": current.get("rev")},
                              {"$set": {"outbox_pending": False}})
    return published


def sweep(collection, publishers, now, older_than_seconds=5, limit=200):
    """Re-publish outbox entries of documents last written more than a few seconds ago."""
    cutoff = now.timestamp() - older_than_seconds
    count = 0
    for doc in list(collection.find({"outbox_pending": True, "updated_ts": {"$lt": cutoff}},
                                    {"outbox": 1, "rev": 1}).limit(limit)):
        outbox = doc.get("outbox") or {}
        published = settle(collection, doc["_id"], doc.get("rev"), outbox, publishers)
        if published:
            REPUBLISHED.labels("any").inc(published)
        count += published
    return count
