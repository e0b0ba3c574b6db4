"""The feedback store against the embedded store: exactly the operations the service relies
on (compare-and-set, set-once review state, epoch-second ranges)."""

from datetime import datetime, timedelta, timezone

from services.feedback.store import FeedbackStore
from services.feedback.tallies import cases_by_state

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_review_state_is_set_once_and_a_replayed_decision_keeps_it(db):
    store = FeedbackStore(db)
    store.ensure_indexes()
    decided = {
        "status": "approved",
        "scenario": "birth",
        "review_due": NOW.isoformat(),
        "review_due_ts": NOW.timestamp(),
        "departments": {},
    }
    store.note_decided("a1", decided, NOW)
    assert store.application("a1")["review_state"] == "awaiting"
    store.mark_reviewed("a1", "service_center", NOW)
    store.note_decided("a1", decided, NOW)  # the same event again
    assert store.application("a1")["review_state"] == "reviewed"


def test_a_submission_then_its_decision_and_the_other_way_round(db):
    store = FeedbackStore(db)
    store.ensure_indexes()
    decided = {
        "status": "approved",
        "scenario": "birth",
        "review_due": NOW.isoformat(),
        "review_due_ts": NOW.timestamp(),
    }
    store.note_submitted("first", "430100", "birth", NOW)
    store.note_submitted("first", "430100", "birth", NOW)  # replayed: no error, no change
    store.note_decided("first", decided, NOW)
    store.note_decided("late", decided, NOW)  # the decision's event came first
    store.note_submitted("late", "430100", "birth", NOW)
    for name in ("first", "late"):
        doc = store.application(name)
        assert (doc["status"], doc["review_state"]) == ("approved", "awaiting")
    assert store.application("first")["applicant_id"] == "430100"


def test_windows_closed_without_a_review_are_found_and_marked_once(db):
    store = FeedbackStore(db)
    for name, due in (("old", NOW - timedelta(days=1)), ("open", NOW + timedelta(days=1))):
        store.note_decided(
            name,
            {
                "status": "approved",
                "scenario": "birth",
                "review_due": due.isoformat(),
                "review_due_ts": due.timestamp(),
            },
            NOW,
        )
    assert [a["_id"] for a in store.windows_closed_unreviewed(NOW)] == ["old"]
    assert store.mark_not_reviewed("old") is True
    assert store.mark_not_reviewed("old") is False
    assert store.windows_closed_unreviewed(NOW) == []


def test_a_case_write_is_compare_and_set_and_keeps_unsent_outbox_entries(db):
    store = FeedbackStore(db)
    case = {
        "_id": "C1",
        "state": "awaiting_visit",
        "department": "taxation",
        "scenario": "birth",
        "items": ["tax-1"],
        "region": "430102",
        "opened_at": NOW.isoformat(),
        "visit_due": (NOW + timedelta(days=1)).isoformat(),
        "rectify_due": (NOW + timedelta(days=15)).isoformat(),
        "visit": None,
        "rectification": None,
        "earlier_rounds": [{"round": 1, "x": {"y": 2}}],
    }
    assert store.insert("cases", case, {"m1": {"kind": "event"}}, NOW) is True
    assert store.insert("cases", case, {}, NOW) is False
    stored = store.get("cases", "C1")
    changed = dict(stored, state="awaiting_rectification")
    assert store.save("cases", changed, {"m2": {"kind": "event"}}, NOW) is True
    assert store.save("cases", changed, {}, NOW) is False  # stale revision
    stored = store.get("cases", "C1")
    assert stored["state"] == "awaiting_rectification" and stored["rev"] == 2
    assert set(stored["outbox"]) == {"m1", "m2"}
    assert stored["earlier_rounds"] == [{"round": 1, "x": {"y": 2}}]
    assert [c["_id"] for c in store.list_cases("taxation", "open")] == ["C1"]
    assert store.list_cases("health") == []
    assert cases_by_state(store.review_tallies(NOW)) == {"awaiting_rectification": 1}


def test_review_flags_read_back_as_booleans_after_a_set(db, embedded_store):
    """nx-27017 0.8.1 reads a top-level boolean written by $set back as 0/1 (a real MongoDB
    keeps the boolean); the store turns its flags back into booleans."""
    db.raw.insert_one({"_id": "r", "flag": False})
    db.raw.update_one({"_id": "r"}, {"$set": {"flag": True}})
    assert (db.raw.find_one({"_id": "r"})["flag"] is True) is (not embedded_store)
    store = FeedbackStore(db)
    store.insert(
        "reviews",
        {
            "_id": "R1",
            "application_id": "a1",
            "bad": True,
            "case_pending": True,
            "level": "dissatisfied",
            "target": "service_center",
            "scenario": "birth",
            "items": [],
        },
        {},
        NOW,
    )
    review = store.get("reviews", "R1")
    assert store.save("reviews", dict(review, case_pending=False), {}, NOW)
    for read in (store.get("reviews", "R1"), store.reviews_of("a1")[0]):
        assert read["bad"] is True and read["case_pending"] is False
