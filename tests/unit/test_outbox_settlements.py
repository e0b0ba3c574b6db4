"""Settlements.close: nameko stops a container's dependencies all at once, so the store's
stop and the Settlements' own stop both call close(); neither may return (and let the store
client close) while a clear is still under way."""

import eventlet
import eventlet.event

from onestop.common import outbox


class SlowCollection:
    """A collection whose every round trip takes a moment (as a real one yields)."""

    def __init__(self):
        self.done = []

    def update_one(self, query, update):
        eventlet.sleep(0.01)
        self.done.append(query["_id"])

        class Result:
            matched_count = 1

        return Result()


def waiting_documents(later, collection, count):
    for n in range(count):
        later.publishing(n, 1)
        later.waiting[n].collection, later.waiting[n].message_ids = collection, {f"m{n}"}
        later.waiting[n].known.send()


def test_two_concurrent_closes_both_return_only_when_every_clear_is_done():
    collection, later = SlowCollection(), outbox.Settlements(delay=60)
    waiting_documents(later, collection, 5)
    seen_at_return = []

    def close():
        later.close()
        seen_at_return.append(len(collection.done))

    threads = [eventlet.spawn(close), eventlet.spawn(close)]
    for thread in threads:
        thread.wait()
    assert seen_at_return == [5, 5] and later.waiting == {}


class GatedCollection(SlowCollection):
    """Its round trips wait until the test lets them finish."""

    def __init__(self):
        super().__init__()
        self.gate = eventlet.event.Event()
        self.started = []

    def update_one(self, query, update):
        self.started.append(query["_id"])
        self.gate.wait()
        return super().update_one(query, update)


def test_close_waits_for_a_delayed_clear_already_under_way():
    collection, later = GatedCollection(), outbox.Settlements(delay=0.001)
    later.publishing("d", 1)
    later.published(collection, "d", 1, {"m1"})
    with eventlet.Timeout(10):
        while not collection.started:  # the delayed clear took the entry; its trip is on
            eventlet.sleep(0.001)
    assert later.waiting == {} and collection.done == []
    closing = eventlet.spawn(later.close)
    eventlet.sleep(0.05)
    assert not closing.dead  # waits for the clear under way
    collection.gate.send()
    closing.wait()
    assert collection.done == ["d"]
