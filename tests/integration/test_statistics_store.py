"""The published statistics' store against the embedded store: the operations the
incremental scheme relies on (upsert with $set and $inc, compare-and-set of a contribution
on a document without a revision yet, months compared as strings), and the operators'
recount (`ops.cli statistics recount`) finding and repairing a bucket a crash left behind."""

from ops.cli import statistics_recount
from services.feedback import statistics
from services.feedback.statistics import ALL, bucket_key
from services.feedback.statistics_store import BUCKETS, StatisticsStore
from tests.unit.test_feedback_statistics import (
    CALENDAR,
    PLAN,
    case,
    decided_event,
    review,
    submitted_event,
)


def filled(db):
    store = StatisticsStore(db)
    store.ensure_indexes()
    for app, channel, month in (("a1", "online", "03"), ("a2", "counter", "04")):
        at = f"2026-{month}-02T09:00:00+08:00"
        store.note_facts(
            app, "submitted", statistics.submitted_facts(submitted_event(app, channel, at=at), PLAN)
        )
        statistics.refresh(store, app)
    store.note_facts("a1", "decided", statistics.decided_facts(decided_event("a1"), CALENDAR))
    db.reviews.insert_one(review("a1", target="taxation", level="very_dissatisfied"))
    db.cases.insert_one(case("a1", state="closed", closed="2026-04-03T10:00:00+08:00"))
    statistics.refresh(store, "a1")
    return store


def test_buckets_are_kept_by_difference_and_equal_the_recount(db):
    store = filled(db)
    march = bucket_key("2026-03", ALL, "430102", "online")
    assert store.all_buckets()[march]["submitted"] == 1
    assert store.all_buckets()[march]["decided_on_time"] == 1
    assert db[BUCKETS].find_one({"_id": march})["channel"] == "online"
    # a replay of everything changes nothing
    for app in ("a1", "a2"):
        assert statistics.refresh(store, app) == {}
    recounted = statistics.recount(store.all_facts(), store.all_reviews(), store.all_cases())
    assert store.all_buckets() == recounted
    # months as strings: the range and the department select
    april = store.buckets(ALL, "2026-04", "2026-04")
    assert set(april) == {
        bucket_key("2026-04", ALL, "430102", "counter"),
        bucket_key("2026-04", ALL, "430102", "online"),
    }
    assert set(store.buckets("taxation", None, "2026-03")) == {
        bucket_key("2026-03", "taxation", "430102", "online")
    }


def test_the_compare_and_set_refuses_a_stale_revision(db):
    store = filled(db)
    rev = store.facts("a1")["rev"]
    assert store.save_contribution("a1", rev, {}) is True
    assert store.save_contribution("a1", rev, {}) is False
    store.note_facts("new", "submitted", {"x": 1})
    assert store.save_contribution("new", None, {}) is True  # no revision yet
    assert store.save_contribution("new", None, {}) is False


def test_the_recount_finds_and_repairs_a_lost_increment(db):
    store = filled(db)
    assert statistics_recount(store)["equal"] is True
    march = bucket_key("2026-03", ALL, "430102", "online")
    # a crash between the contribution's compare-and-set and its $inc
    db[BUCKETS].update_one({"_id": march}, {"$inc": {"submitted": -1}})
    found = statistics_recount(store)
    assert found["equal"] is False
    assert found["differences"] == [
        {"bucket": march, "figure": "submitted", "kept": 0, "recounted": 1}
    ]
    assert statistics_recount(store, repair=True)["repaired"] is True
    assert statistics_recount(store)["equal"] is True
    # and the handlers go on from the repaired contributions: a replay changes nothing
    assert statistics.refresh(store, "a1") == {}


def test_a_quiet_application_skips_reviews_until_a_review_handler_marks_it(db):
    """docs/adr/0028: the first event's insert marks the facts `quiet` (and counts them),
    so the counting of the submission and the decision reads no reviews or cases; a
    review's handler marks the facts first and then refreshes, and the buckets end equal
    to the recount."""
    store = StatisticsStore(db)
    store.ensure_indexes()
    submitted = statistics.submitted_facts(submitted_event("q1", "online"), PLAN)
    assert statistics.count_first(store, "q1", "submitted", submitted) != {}
    assert store.facts("q1")["quiet"]  # one insert: facts, mark and contribution
    assert store.all_buckets() == statistics.recount(store.all_facts(), [], [])
    # a review stored before its handler ran: a quiet refresh does not see it yet
    db.reviews.insert_one(review("q1", target="taxation", level="very_dissatisfied"))
    decided = statistics.decided_facts(decided_event("q1"), CALENDAR)
    statistics.refresh(store, "q1", doc=store.note_facts("q1", "decided", decided))
    recounted = statistics.recount(store.all_facts(), store.all_reviews(), store.all_cases())
    assert store.all_buckets() != recounted
    # the review's handler: marked, then refreshed: everything counted
    store.note_engaged("q1")
    assert statistics.refresh(store, "q1") != {}
    assert not store.facts("q1")["quiet"]  # (the embedded store keeps booleans as 0 and 1)
    recounted = statistics.recount(store.all_facts(), store.all_reviews(), store.all_cases())
    assert store.all_buckets() == recounted


def test_a_first_event_after_a_review_handler_is_not_quiet(db):
    """A review's handler that ran before any facts were known leaves a marked document, so
    the submission noted later reads the reviews (nothing is left uncounted)."""
    store = StatisticsStore(db)
    store.ensure_indexes()
    db.reviews.insert_one(review("q2", target="taxation", level="very_dissatisfied"))
    store.note_engaged("q2")
    assert statistics.refresh(store, "q2") == {}  # no facts yet: nothing to count
    statistics.count_first(
        store, "q2", "submitted", statistics.submitted_facts(submitted_event("q2", "online"), PLAN)
    )
    assert not store.facts("q2")["quiet"]
    decided = statistics.decided_facts(decided_event("q2"), CALENDAR)
    statistics.refresh(store, "q2", doc=store.note_facts("q2", "decided", decided))
    recounted = statistics.recount(store.all_facts(), store.all_reviews(), store.all_cases())
    assert store.all_buckets() == recounted
    assert any(k.startswith("review_") for f in recounted.values() for k in f)


def test_a_repair_unmarks_quiet_facts_so_a_replay_keeps_what_the_recount_counted(db):
    """A review stored whose handler has not run (the facts still quiet), then an operator's
    repair counts it: a replayed submission must not take it back."""
    store = StatisticsStore(db)
    store.ensure_indexes()
    submitted = statistics.submitted_facts(submitted_event("q3", "online"), PLAN)
    statistics.count_first(store, "q3", "submitted", submitted)
    decided = statistics.decided_facts(decided_event("q3"), CALENDAR)
    statistics.refresh(store, "q3", doc=store.note_facts("q3", "decided", decided))
    db.reviews.insert_one(review("q3", target="taxation", level="very_dissatisfied"))
    assert statistics_recount(store, repair=True)["repaired"] is True
    assert not store.facts("q3")["quiet"]
    statistics.refresh(store, "q3", doc=store.note_facts("q3", "submitted", submitted))
    assert statistics_recount(store)["equal"] is True
