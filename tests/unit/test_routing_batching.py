"""routing/batching.py: results of one application that arrive together are applied in one
batch, in arrival order; each caller returns once its result is applied; one refused result
fails alone."""

import time

import eventlet
import pytest

from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import APPLICATION_DECIDED, APPLICATION_UPDATED
from services.routing.batching import ApplicationQueues, latest_snapshot_only


def test_results_arriving_together_are_applied_in_one_batch_in_order():
    queues, batches = ApplicationQueues(), []

    def apply_batch(application_id, items):
        batches.append((application_id, list(items)))
        eventlet.sleep(0.01)  # the write: later arrivals queue meanwhile
        return {}

    threads = [eventlet.spawn(queues.submit, "a1", n, apply_batch) for n in range(5)]
    for thread in threads:
        thread.wait()
    assert [items for _, items in batches] == [[0, 1, 2, 3, 4]]
    assert queues.queues == {}


def test_a_result_arriving_during_a_write_goes_in_the_next_batch_by_the_same_worker():
    queues, batches = ApplicationQueues(), []

    def apply_batch(application_id, items):
        batches.append(list(items))
        if len(batches) == 1:
            late.append(eventlet.spawn(queues.submit, "a1", "late", apply_batch))
            eventlet.sleep(0.01)
        return {}

    late = []
    queues.submit("a1", "first", apply_batch)
    late[0].wait()
    assert batches == [["first"], ["late"]]


def test_other_applications_are_not_held_up():
    queues, seen = ApplicationQueues(), []

    def apply_batch(application_id, items):
        seen.append((application_id, tuple(items)))
        return {}

    for thread in [eventlet.spawn(queues.submit, f"a{n}", n, apply_batch) for n in range(3)]:
        thread.wait()
    assert sorted(seen) == [("a0", (0,)), ("a1", (1,)), ("a2", (2,))]


def test_a_refused_result_fails_alone_and_a_failed_write_fails_the_batch():
    queues = ApplicationQueues()

    def refuse_second(application_id, items):
        return {
            index: InvalidMessage(f"refused {item}")
            for index, item in enumerate(items)
            if item == "bad"
        }

    good = eventlet.spawn(queues.submit, "a1", "good", refuse_second)
    bad = eventlet.spawn(queues.submit, "a1", "bad", refuse_second)
    assert good.wait() is None
    with pytest.raises(InvalidMessage, match="refused bad"):
        bad.wait()

    def store_away(application_id, items):
        raise ConnectionError("store away")

    with pytest.raises(ConnectionError):
        queues.submit("a2", "x", store_away)
    assert queues.queues == {}


def test_only_the_last_snapshot_of_a_batch_is_published():
    def updated(rev, status):
        return {
            "kind": "event",
            "event_type": APPLICATION_UPDATED,
            "body": {"rev": rev, "status": status},
        }

    task = {"kind": "amqp", "routing_key": "task.x.430100", "body": {}}
    decided = {"kind": "event", "event_type": APPLICATION_DECIDED, "body": {}}
    messages = [
        updated(2, "in_review"),
        task,
        updated(2, "in_review"),
        decided,
        updated(2, "approved"),
    ]
    assert latest_snapshot_only(messages) == [task, decided, updated(2, "approved")]
    assert latest_snapshot_only([task]) == [task]


def lingering(queues, batches, expected, timeout):
    """An apply_batch that waits for `expected` more results, records each batch, and
    refuses the results named "bad"."""

    def apply_batch(application_id, items):
        items.extend(queues.take_more(application_id, expected, timeout=timeout))
        batches.append(list(items))
        return {
            index: InvalidMessage("refused") for index, item in enumerate(items) if item == "bad"
        }

    return apply_batch


def test_a_batch_waits_briefly_for_the_results_it_expects_and_writes_them_together():
    queues, batches = ApplicationQueues(), []
    apply_batch = lingering(queues, batches, 2, timeout=1.0)

    first = eventlet.spawn(queues.submit, "a1", "first", apply_batch)
    eventlet.sleep(0.02)  # the first is lingering for two more
    later = [eventlet.spawn(queues.submit, "a1", item, apply_batch) for item in ("bad", "ok")]
    first.wait()
    later[1].wait()
    with pytest.raises(InvalidMessage):  # the extra results are settled with the batch
        later[0].wait()
    assert batches == [["first", "bad", "ok"]]
    assert queues.queues == {} and queues.batches == {} and queues.waiting == {}


def test_a_batch_waits_no_longer_than_the_linger_for_results_that_do_not_come():
    queues, batches = ApplicationQueues(), []
    started = time.monotonic()
    queues.submit("a1", "alone", lingering(queues, batches, 3, timeout=0.05))
    waited = time.monotonic() - started
    assert batches == [["alone"]] and 0.04 <= waited < 1.0
    assert queues.waiting == {}


def test_nothing_is_awaited_when_no_more_results_are_expected():
    queues, batches = ApplicationQueues(), []
    started = time.monotonic()
    queues.submit("a1", "last", lingering(queues, batches, 0, timeout=10))
    assert batches == [["last"]] and time.monotonic() - started < 1.0
