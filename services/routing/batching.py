"""Results of one application applied together: one read and one write for a burst.

Departments answer an application's tasks at about the same time, so a routing process
receives several results of one application at once. Applied one by one, each worker
reads the workflow, all but one lose the compare-and-set race and try again (counted in
routing_write_conflicts_total): with K departments that is O(K²) store round trips per
application. Here, within one process, the results of one application queue up: the
first worker to arrive applies everything queued, in arrival order, by the same pure
domain function, exactly as if applied one after the other, then writes once (compare-
and-set on the revision, docs/adr/0003) and publishes from the outbox. Each worker returns
(and its message is acknowledged) only once its result is persisted; a result that fails
fails alone (its own exception, so the failure policy applies to its message only).
Between routing processes the compare-and-set still decides, as before.

A batch may also wait a little for the results it still expects (`take_more`): when the
workflow it read has tasks out whose results are not in the batch, the batch waits up to
ROUTING_RESULT_LINGER_SECONDS (default 0.01) for them to arrive before it writes. K
departments answering within a few milliseconds of each other then cost one write, one
snapshot and one outbox flush instead of one per arrival; a result that does not come
costs the others that much latency, once (docs/adr/0011).
"""

import eventlet
from eventlet.event import Event

from onestop.contracts.events import APPLICATION_UPDATED


class BatchWorkerStopped(ConnectionError):
    """Transient for the failure policy (onestop/common/messaging.py): the message is
    requeued after a pause, never dead-lettered, however often it was redelivered."""


class _Entry:
    __slots__ = ("item", "done", "error")

    def __init__(self, item):
        self.item = item
        self.done = Event()
        self.error = None


class ApplicationQueues:
    """application id -> results waiting for the worker that is applying that application's."""

    def __init__(self):
        self.queues = {}
        self.batches = {}  # application id -> the entries of the batch being applied
        self.waiting = {}  # application id -> (results wanted, Event) of a lingering batch

    def submit(self, application_id, item, apply_batch):
        """Apply `item`, with whatever else is queued for the application, by
        `apply_batch(application_id, items) -> {index: exception}`; return once persisted,
        raise this item's exception if it failed."""
        entry = _Entry(item)
        queue = self.queues.get(application_id)
        if queue is not None:
            queue.append(entry)
            waiter = self.waiting.get(application_id)
            if waiter is not None and len(queue) >= waiter[0] and not waiter[1].ready():
                waiter[1].send()
            entry.done.wait()
        else:
            self._drain(application_id, entry, apply_batch)
        if entry.error is not None:
            raise entry.error

    def _drain(self, application_id, own, apply_batch):
        queue = self.queues[application_id] = [own]
        try:
            while queue:
                eventlet.sleep(0)  # results already received by other workers join this batch
                batch = self.batches[application_id] = list(queue)
                del queue[:]
                try:
                    errors = apply_batch(application_id, [entry.item for entry in batch])
                except Exception as exc:  # the whole batch failed (store or broker away)
                    errors = {index: exc for index in range(len(batch))}
                for index, entry in enumerate(batch):
                    entry.error = errors.get(index)
                    if entry is not own:
                        entry.done.send()
        finally:
            # no switch between the last check and here: nothing can be queued unseen,
            # except when this worker is killed mid-batch; those are failed, not lost
            del self.queues[application_id]
            self.batches.pop(application_id, None)
            for entry in queue:
                entry.error = BatchWorkerStopped(
                    "the worker applying this application's results stopped; the result is requeued"
                )
                entry.done.send()

    def take_more(self, application_id, count, timeout):
        """Called by `apply_batch` while it applies a batch: wait up to `timeout` seconds
        until `count` more results of the application are queued, then take whatever is
        queued into the running batch; return their items, in arrival order (the batch's
        indexes continue after the items `apply_batch` was given)."""
        queue, batch = self.queues.get(application_id), self.batches.get(application_id)
        if queue is None or batch is None:
            return []
        if count > 0 and len(queue) < count and timeout > 0:
            arrived = Event()
            self.waiting[application_id] = (count, arrived)
            try:
                with eventlet.Timeout(timeout, False):  # False: time up is not an error
                    arrived.wait()
            finally:
                del self.waiting[application_id]
        extra = list(queue)
        del queue[:]
        batch.extend(extra)
        return [entry.item for entry in extra]


def latest_snapshot_only(messages):
    """The messages of several changes written at once, with only the last
    application_updated snapshot: the earlier ones would carry the same revision and show
    a state that the write skips."""
    last = max(
        (
            index
            for index, m in enumerate(messages)
            if m["kind"] == "event" and m["event_type"] == APPLICATION_UPDATED
        ),
        default=None,
    )
    return [
        m
        for index, m in enumerate(messages)
        if index == last or not (m["kind"] == "event" and m["event_type"] == APPLICATION_UPDATED)
    ]
