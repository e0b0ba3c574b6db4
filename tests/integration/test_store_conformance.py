"""Exactly the store operations the services rely on, against the embedded store.

They would pass on a real MongoDB too (run with MONGO_URI=...). The known gaps of
nx-27017 that our document shapes avoid are pinned here, so a store upgrade that
fixes or breaks them is noticed.
"""

import gridfs
import pytest
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError


def test_unique_index_refuses_a_second_key(db):
    db.apps.create_index("idempotency_key", unique=True)
    db.apps.insert_one({"_id": "a", "idempotency_key": "k"})
    with pytest.raises(DuplicateKeyError):
        db.apps.insert_one({"_id": "b", "idempotency_key": "k"})
    with pytest.raises(DuplicateKeyError):
        db.apps.insert_one({"_id": "a", "idempotency_key": "other"})


def test_conditional_update_on_revision_is_atomic_compare_and_set(db):
    db.wf.insert_one({"_id": "w", "rev": 1, "tasks": {"A": {"state": "sent"}}})
    first = db.wf.update_one(
        {"_id": "w", "rev": 1}, {"$set": {"rev": 2, "tasks": {"A": {"state": "approved"}}}}
    )
    stale = db.wf.update_one(
        {"_id": "w", "rev": 1}, {"$set": {"rev": 2, "tasks": {"A": {"state": "rejected"}}}}
    )
    assert (first.matched_count, stale.matched_count) == (1, 0)
    assert db.wf.find_one({"_id": "w"})["tasks"]["A"]["state"] == "approved"


def test_dotted_set_and_unset_of_sub_document_entries(db):
    db.wf.insert_one({"_id": "w", "outbox": {}})
    db.wf.update_one(
        {"_id": "w"},
        {"$set": {"outbox.m1": {"kind": "event", "body": {"x": 1}}, "outbox.m2": {"kind": "amqp"}}},
    )
    db.wf.update_one({"_id": "w"}, {"$unset": {"outbox.m1": ""}})
    assert db.wf.find_one({"_id": "w"})["outbox"] == {"m2": {"kind": "amqp"}}


def test_query_on_a_nested_field_and_a_missing_field(db):
    db.wf.insert_many([{"_id": 1, "view_rev": 0}, {"_id": 2, "view_rev": 5}])
    assert (
        db.wf.update_one(
            {"_id": 1, "view_rev": {"$lt": 3}}, {"$set": {"view_rev": 3}}
        ).modified_count
        == 1
    )
    assert (
        db.wf.update_one(
            {"_id": 2, "view_rev": {"$lt": 3}}, {"$set": {"view_rev": 3}}
        ).modified_count
        == 0
    )


def test_range_sort_limit_in_and_count(db):
    """Times are queried as epoch seconds (updated_ts): datetime ranges next to another
    condition answered nothing on nx-27017 0.8.1 in one of our runs."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    db.wf.insert_many(
        [
            {
                "_id": i,
                "status": "in_review" if i % 2 else "approved",
                "outbox_pending": i < 3,
                "updated_ts": now.timestamp() - i,
            }
            for i in range(6)
        ]
    )
    cutoff = now.timestamp() - 1.5
    pending = db.wf.find({"outbox_pending": True, "updated_ts": {"$lt": cutoff}})
    assert [d["_id"] for d in pending] == [2]
    assert db.wf.count_documents({"status": {"$in": ["in_review"]}}) == 3
    assert [d["_id"] for d in db.wf.find({}).sort("_id", -1).limit(2)] == [5, 4]


def test_ordered_bulk_write_of_upserts_with_inc(db):
    """The published statistics move an application's K+1 buckets in one round trip
    (services/feedback/statistics_store.py): new and existing documents, $set and $inc."""
    db.buckets.insert_one({"_id": "a", "department": "a", "submitted": 2})
    result = db.buckets.bulk_write(
        [
            UpdateOne(
                {"_id": key}, {"$set": {"department": key}, "$inc": {"submitted": 1}}, upsert=True
            )
            for key in ("a", "b", "c")
        ],
        ordered=True,
    )
    assert (result.matched_count, result.upserted_count) == (1, 2)
    assert {d["_id"]: d["submitted"] for d in db.buckets.find()} == {"a": 3, "b": 1, "c": 1}
    assert db.buckets.find_one({"_id": "c"})["department"] == "c"


def test_find_and_modify_upsert_returns_the_document_after(db):
    """The statistics keep an event's facts and read the application back in one round
    trip (StatisticsStore.note_facts), on a new application and on a known one."""
    first = db.facts.find_one_and_update(
        {"_id": "a1"},
        {"$set": {"submitted": {"region": "430104"}}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert first == {"_id": "a1", "submitted": {"region": "430104"}}
    db.facts.update_one({"_id": "a1"}, {"$set": {"rev": 1, "contributed": {"k": {"n": 1}}}})
    second = db.facts.find_one_and_update(
        {"_id": "a1"},
        {"$set": {"decided": {"outcome": "approved"}}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert second["rev"] == 1 and second["contributed"] == {"k": {"n": 1}}
    assert second["decided"] == {"outcome": "approved"} and "submitted" in second


def test_array_membership_query_without_an_index(db):
    db.wf.insert_many([{"_id": 1, "open_offices": ["a.1", "b.2"]}, {"_id": 2, "open_offices": []}])
    assert [d["_id"] for d in db.wf.find({"open_offices": "b.2"})] == [1]


def test_gridfs_round_trip(db):
    fs = gridfs.GridFS(db)
    data = b"%PDF-" + bytes(range(256)) * 100
    assert fs.get(fs.put(data, filename="m.pdf")).read() == data


def test_known_gap_push_of_a_document(db, embedded_store):
    """nx-27017 0.8.1 stores a pushed dict as a JSON string: we never $push documents.

    On a real MongoDB the document comes back as a document.
    """
    db.wf.insert_one({"_id": "w", "history": []})
    db.wf.update_one({"_id": "w"}, {"$push": {"history": {"x": 1}}})
    stored = db.wf.find_one({"_id": "w"})["history"][0]
    assert (stored == {"x": 1}) is (not embedded_store)
