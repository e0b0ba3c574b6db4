"""The feedback store against the embedded store: exactly the operations the service relies
on (compare-and-set, set-once review state, epoch-second ranges)."""
from datetime import datetime, timedelta, timezone

from onestop.feedback.store import FeedbackStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_review_state_is_set_once_and_a_replayed_decision_keeps_it(db):
    store = FeedbackStore(db)
    store.ensure_indexes()
    decided = {"status": "approved", "scenario": "birth", "review_due": NOW.isoformat(),
               "review_due_ts": NOW.timestamp(), "departments": {}}
    store.note_decided("a1", decided, NOW)
    assert store.application("a1")["review_state"] == "awaiting"
    store.mark_reviewed("a1")
    store.note_decided("a1", decided, NOW)  # the same event again
    assert store.application("a1")["review_state"] == "reviewed"


def test_windows_closed_without_a_review_are_found_and_marked_once(db):
    store = FeedbackStore(db)
    for name, due in (("old", NOW - timedelta(days=1)), ("open", NOW + timedelta(days=1))):
        store.note_decided(name, {"status": "approved", "scenario": "birth",
                                  "review_due_ts": due.timestamp()}, NOW)
    assert [a["_id"] for a in store.windows_closed_unreviewed(NOW)] == ["old"]
    assert store.mark_not_reviewed("old") is True
    assert store.mark_not_reviewed("old") is False
    assert store.windows_closed_unreviewed(NOW) == []


def test_a_case_write_is_compare_and_set_and_keeps_unsent_outbox_entries(db):
    store = FeedbackStore(db)
    case = {"_id": "C1", "state": "awaiting_visit", "department": "taxation",
            "opened_at": NOW.isoformat(), "earlier_rounds": [{"round": 1, "x": {"y": 2}}]}
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
    assert store.count_cases_by_state() == {"awaiting_rectification": 1}
