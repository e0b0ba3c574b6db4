"""The outbox on the real store: a crashed writer's message is never orphaned."""

import time
from datetime import datetime, timezone

import eventlet
import pymongo
import pytest
from nameko.rpc import rpc

from onestop.common import outbox
from onestop.common.mongo import Storage
from onestop.common.store import MongoStore


def test_a_settle_by_one_writer_leaves_another_writers_unpublished_entry_pending(db):
    published = []
    publishers = {"event": lambda entry: published.append(entry["body"])}
    # writer A stored m1 at rev 2 and crashed before publishing it
    db.docs.insert_one(
        {
            "_id": "d",
            "rev": 2,
            "outbox_pending": True,
            "updated_ts": time.time() - 60,
            "outbox": {"m1": outbox.entry("event", "first", event_type="x")},
        }
    )
    # writer B stores m2 at rev 3 and settles its own entry
    m2 = {"m2": outbox.entry("event", "second", event_type="x")}
    db.docs.update_one(
        {"_id": "d"}, {"$set": {"rev": 3, "outbox.m2": m2["m2"], "outbox_pending": True}}
    )
    outbox.settle(db.docs, "d", 3, m2, publishers)
    assert published == ["second"]
    assert db.docs.find_one({"_id": "d"})["outbox_pending"]  # (the store may say 1)
    # the sweep finds and publishes what A left behind, then clears the flag
    assert outbox.sweep(db.docs, publishers, datetime.now(timezone.utc)) == 1
    assert published == ["second", "first"]
    doc = db.docs.find_one({"_id": "d"})
    assert doc["outbox"] == {} and not doc["outbox_pending"]


def test_a_failed_publish_stays_in_the_outbox(db):
    def broken(entry):
        raise ConnectionError("broker away")

    db.docs.insert_one(
        {
            "_id": "d",
            "rev": 1,
            "outbox_pending": True,
            "updated_ts": 0,
            "outbox": {"m1": outbox.entry("event", "x", event_type="x")},
        }
    )
    assert outbox.sweep(db.docs, {"event": broken}, datetime.now(timezone.utc)) == 0
    doc = db.docs.find_one({"_id": "d"})
    assert set(doc["outbox"]) == {"m1"} and doc["outbox_pending"]


def test_a_writer_alone_in_the_outbox_settles_in_one_update(db):
    published = []
    entries = {
        "m1": outbox.entry("event", "a", event_type="x"),
        "m2": outbox.entry("event", "b", event_type="x"),
    }
    db.docs.insert_one(
        {"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0, "outbox": dict(entries)}
    )
    assert (
        outbox.settle(
            db.docs, "d", 1, entries, {"event": lambda e: published.append(e["body"])}, alone=True
        )
        == 2
    )
    doc = db.docs.find_one({"_id": "d"})
    assert published == ["a", "b"] and doc["outbox"] == {} and not doc["outbox_pending"]


def test_alone_falls_back_when_another_writer_came_in_between(db):
    published = []
    mine = {"m1": outbox.entry("event", "mine", event_type="x")}
    # written alone at rev 1; another writer then stored m2 at rev 2 and has not published yet
    db.docs.insert_one(
        {
            "_id": "d",
            "rev": 2,
            "outbox_pending": True,
            "updated_ts": 0,
            "outbox": dict(mine, m2=outbox.entry("event", "theirs", event_type="x")),
        }
    )
    outbox.settle(
        db.docs, "d", 1, mine, {"event": lambda e: published.append(e["body"])}, alone=True
    )
    doc = db.docs.find_one({"_id": "d"})
    assert published == ["mine"] and set(doc["outbox"]) == {"m2"} and doc["outbox_pending"]


def test_alone_keeps_what_the_broker_refused(db):
    def broken(entry):
        raise ConnectionError("broker away")

    mine = {"m1": outbox.entry("event", "x", event_type="x")}
    db.docs.insert_one(
        {"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0, "outbox": dict(mine)}
    )
    assert outbox.settle(db.docs, "d", 1, mine, {"event": broken}, alone=True) == 0
    doc = db.docs.find_one({"_id": "d"})
    assert set(doc["outbox"]) == {"m1"} and doc["outbox_pending"]


def _published_alone(db, later, rev=1):
    """A document written at `rev` with m1 and m2 as its whole outbox, both published."""
    entries = {
        "m1": outbox.entry("event", "a", event_type="x"),
        "m2": outbox.entry("event", "b", event_type="x"),
    }
    db.docs.insert_one(
        {"_id": "d", "rev": rev, "outbox_pending": True, "updated_ts": 0, "outbox": dict(entries)}
    )
    published = []
    assert (
        outbox.settle(
            db.docs,
            "d",
            rev,
            entries,
            {"event": lambda e: published.append(e["body"])},
            alone=True,
            later=later,
        )
        == 2
    )
    assert published == ["a", "b"]


def test_settlements_clear_a_published_outbox_shortly_after(db):
    later = outbox.Settlements(delay=0.05)
    _published_alone(db, later)
    assert set(db.docs.find_one({"_id": "d"})["outbox"]) == {"m1", "m2"}  # not yet
    eventlet.sleep(0.3)
    doc = db.docs.find_one({"_id": "d"})
    assert doc["outbox"] == {} and not doc["outbox_pending"] and later.waiting == {}


def test_the_next_write_takes_the_published_entries_and_removes_them_itself(db):
    later = outbox.Settlements(delay=0.05)
    _published_alone(db, later)
    sent = later.take("d", 1)
    assert sent == {"m1", "m2"} and later.take("d", 1) == set()  # taken once
    db.docs.update_one(
        {"_id": "d", "rev": 1},
        {
            "$set": {
                "rev": 2,
                "outbox.m3": outbox.entry("event", "c", event_type="x"),
                "outbox_pending": True,
            },
            "$unset": {f"outbox.{m}": "" for m in sent},
        },
    )
    eventlet.sleep(0.3)  # the timer finds nothing left to do: m3 is the next writer's
    doc = db.docs.find_one({"_id": "d"})
    assert set(doc["outbox"]) == {"m3"} and doc["outbox_pending"]


def test_a_write_at_another_revision_does_not_take_them(db):
    later = outbox.Settlements(delay=10)
    _published_alone(db, later, rev=4)
    assert later.take("d", 3) == set() and set(later.waiting) == {"d"}


def test_when_another_process_wrote_in_between_only_the_published_entries_go(db):
    later = outbox.Settlements(delay=0.05)
    _published_alone(db, later)
    # another routing process stored m3 at rev 2 and has not published it yet
    db.docs.update_one(
        {"_id": "d"}, {"$set": {"rev": 2, "outbox.m3": outbox.entry("event", "c", event_type="x")}}
    )
    eventlet.sleep(0.3)
    doc = db.docs.find_one({"_id": "d"})
    assert set(doc["outbox"]) == {"m3"} and doc["outbox_pending"]  # left for the sweep


def test_close_clears_what_still_waits(db):
    later = outbox.Settlements(delay=60)
    _published_alone(db, later)
    later.close()
    doc = db.docs.find_one({"_id": "d"})
    assert doc["outbox"] == {} and not doc["outbox_pending"] and later.waiting == {}


def test_a_write_that_reads_while_the_publish_is_under_way_waits_for_its_confirms(db):
    later = outbox.Settlements(delay=10)
    entries = {"m1": outbox.entry("event", "a", event_type="x")}
    db.docs.insert_one(
        {"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0, "outbox": dict(entries)}
    )
    confirmed = []

    def slow_broker(entry):
        eventlet.sleep(0.05)
        confirmed.append(entry["body"])

    publishing = eventlet.spawn(
        outbox.settle, db.docs, "d", 1, entries, {"event": slow_broker}, alone=True, later=later
    )
    eventlet.sleep(0)  # the publish has begun, its confirm not yet in
    assert later.take("d", 1) == {"m1"} and confirmed == ["a"]
    publishing.wait()


def test_a_write_does_not_take_entries_whose_publish_failed(db):
    later = outbox.Settlements(delay=10)
    entries = {"m1": outbox.entry("event", "a", event_type="x")}
    db.docs.insert_one(
        {"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0, "outbox": dict(entries)}
    )

    def broken(entry):
        eventlet.sleep(0.02)
        raise ConnectionError("broker away")

    publishing = eventlet.spawn(
        outbox.settle, db.docs, "d", 1, entries, {"event": broken}, alone=True, later=later
    )
    eventlet.sleep(0)
    assert later.take("d", 1) == set()  # m1 stays in the document for the sweep
    publishing.wait()
    assert set(db.docs.find_one({"_id": "d"})["outbox"]) == {"m1"} and later.waiting == {}


def test_a_publish_killed_midway_leaves_nobody_waiting_for_it(db):
    class Killed(BaseException):
        pass

    def killed(entry):
        raise Killed()

    later = outbox.Settlements(delay=10, publish_wait=10)
    entries = {"m1": outbox.entry("event", "a", event_type="x")}
    db.docs.insert_one(
        {"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0, "outbox": dict(entries)}
    )
    with pytest.raises(Killed):
        outbox.settle(db.docs, "d", 1, entries, {"event": killed}, alone=True, later=later)
    assert later.waiting == {}  # a later write does not wait for confirms that never come
    assert set(db.docs.find_one({"_id": "d"})["outbox"]) == {"m1"}  # left for the sweep


class _Writer:
    """A service with a store and an Outbox that settles later, as routing has."""

    name = "it_outbox_writer"
    store = Storage(MongoStore, "it_outbox_writer")
    later = outbox.Outbox("docs", settle_later=True, settle_delay=60)

    @rpc
    def noop(self):
        return None


@pytest.mark.parametrize("written_since", [False, True])
def test_a_stopping_service_clears_what_waits_before_its_store_closes(
    container_factory, nameko_config, written_since
):
    """written_since: another process wrote each document after the publish, so each clear
    takes several round trips (the entries one by one, then the flag)."""
    container = container_factory(_Writer, nameko_config)
    container.start()
    storage = next(d for d in container.dependencies if isinstance(d, Storage))
    settlements = next(
        d for d in container.dependencies if isinstance(d, outbox.Outbox)
    ).settlements
    database = storage.store.db
    for n in range(20):  # several documents: clearing them takes several round trips
        entries = {f"m{n}": outbox.entry("event", "a", event_type="x")}
        database.docs.insert_one({"_id": n, "rev": 1, "outbox": entries, "outbox_pending": True})
        assert (
            outbox.settle(
                database.docs,
                n,
                1,
                entries,
                {"event": lambda e: None},
                alone=True,
                later=settlements,
            )
            == 1
        )
        if written_since:
            database.docs.update_one({"_id": n}, {"$inc": {"rev": 1}})
    assert database.docs.count_documents({"outbox_pending": True}) == 20  # cleared in 60 s

    container.stop()

    with pymongo.MongoClient(nameko_config["MONGO_URI"]) as client:
        docs = list(client[database.name].docs.find())
        client.drop_database(database.name)
    assert [d for d in docs if d["outbox"] or d["outbox_pending"]] == []


def test_the_sweep_always_progresses_past_entries_the_broker_keeps_refusing(db):
    """Issue 14: with more stuck entries than one sweep takes, the sweep used to pick the
    same ones every time and never reach a good entry behind them."""
    now = datetime.now(timezone.utc)
    old = now.timestamp() - 60
    for n in range(30):
        db.docs.insert_one(
            {
                "_id": f"stuck{n}",
                "rev": 1,
                "outbox_pending": True,
                "updated_ts": old - 30 + n,
                "outbox": {f"s{n}": outbox.entry("amqp", "x", routing_key="r")},
            }
        )
    db.docs.insert_one(
        {
            "_id": "good",
            "rev": 1,
            "outbox_pending": True,
            "updated_ts": old,
            "outbox": {"g": outbox.entry("event", "y", event_type="e")},
        }
    )
    sent = []

    def refuse(entry):
        raise ConnectionError("unroutable")

    publishers = {"amqp": refuse, "event": sent.append}
    for _ in range(4):  # ten at a time: the good one is the 31st oldest
        outbox.sweep(db.docs, publishers, now, limit=10)
    assert [e["body"] for e in sent] == ["y"]
    assert db.docs.find_one({"_id": "good"})["outbox"] == {}
    assert db.docs.count_documents({"outbox_pending": True}) == 30  # still kept, not lost
