"""The outbox on the real store: a crashed writer's message is never orphaned."""
import time
from datetime import datetime, timezone

from onestop.common import outbox


def test_a_settle_by_one_writer_leaves_another_writers_unpublished_entry_pending(db):
    published = []
    publishers = {"event": lambda entry: published.append(entry["body"])}
    # writer A stored m1 at rev 2 and crashed before publishing it
    db.docs.insert_one({"_id": "d", "rev": 2, "outbox_pending": True,
                        "updated_ts": time.time() - 60,
                        "outbox": {"m1": outbox.entry("event", "first", event_type="x")}})
    # writer B stores m2 at rev 3 and settles its own entry
    m2 = {"m2": outbox.entry("event", "second", event_type="x")}
    db.docs.update_one({"_id": "d"}, {"$set": {"rev": 3, "outbox.m2": m2["m2"],
                                               "outbox_pending": True}})
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
    db.docs.insert_one({"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0,
                        "outbox": {"m1": outbox.entry("event", "x", event_type="x")}})
    assert outbox.sweep(db.docs, {"event": broken}, datetime.now(timezone.utc)) == 0
    doc = db.docs.find_one({"_id": "d"})
    assert set(doc["outbox"]) == {"m1"} and doc["outbox_pending"]


def test_a_writer_alone_in_the_outbox_settles_in_one_update(db):
    published = []
    entries = {"m1": outbox.entry("event", "a", event_type="x"),
               "m2": outbox.entry("event", "b", event_type="x")}
    db.docs.insert_one({"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0,
                        "outbox": dict(entries)})
    assert outbox.settle(db.docs, "d", 1, entries,
                         {"event": lambda e: published.append(e["body"])}, alone=True) == 2
    doc = db.docs.find_one({"_id": "d"})
    assert published == ["a", "b"] and doc["outbox"] == {} and not doc["outbox_pending"]


def test_alone_falls_back_when_another_writer_came_in_between(db):
    published = []
    mine = {"m1": outbox.entry("event", "mine", event_type="x")}
    # written alone at rev 1; another writer then stored m2 at rev 2 and has not published yet
    db.docs.insert_one({"_id": "d", "rev": 2, "outbox_pending": True, "updated_ts": 0,
                        "outbox": dict(mine, m2=outbox.entry("event", "theirs", event_type="x"))})
    outbox.settle(db.docs, "d", 1, mine, {"event": lambda e: published.append(e["body"])},
                  alone=True)
    doc = db.docs.find_one({"_id": "d"})
    assert published == ["mine"] and set(doc["outbox"]) == {"m2"} and doc["outbox_pending"]


def test_alone_keeps_what_the_broker_refused(db):
    def broken(entry):
        raise ConnectionError("broker away")
    mine = {"m1": outbox.entry("event", "x", event_type="x")}
    db.docs.insert_one({"_id": "d", "rev": 1, "outbox_pending": True, "updated_ts": 0,
                        "outbox": dict(mine)})
    assert outbox.settle(db.docs, "d", 1, mine, {"event": broken}, alone=True) == 0
    doc = db.docs.find_one({"_id": "d"})
    assert set(doc["outbox"]) == {"m1"} and doc["outbox_pending"]
