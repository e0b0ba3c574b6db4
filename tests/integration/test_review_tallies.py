"""feedback's review statistics from tallies (docs/adr/0016) against the embedded store: after
a batch of decisions, reviews, follow-ups and rectification steps, replays included, the
tallies agree with a recount from every document (all regions and a supervisor's), before
and after the sweep, as time alone moves things (review windows close, deadlines pass); and
a statistics call or a scrape reads as many documents with 120 applications as with 24."""

from datetime import timedelta

import pymongo
import pytest
from pymongo import monitoring

from onestop.common.clock import utcnow
from onestop.common.errors import Conflicting
from ops.cli import tallies_check
from services.feedback import domain, tallies
from services.feedback.metrics import store_gauges
from services.feedback.steps import Steps
from services.feedback.store import FeedbackStore
from tests.unit.test_feedback_domain import APPLICANT, LIMITS, MONDAY

# (application region, market_regulation's office region, taxation's office region)
PLACES = (
    ("430102", "430100", "430102"),
    ("430111", "430100", "430111"),
    ("430202", "430200", "430202"),
)
SCENARIOS = ("enterprise_startup", "birth")
LEVELS = domain.LEVELS


class Calls(monitoring.CommandListener):
    """The commands sent and the documents the store sends back (find and getMore)."""

    def __init__(self):
        self.commands = self.documents = 0

    def started(self, event):
        self.commands += 1

    def succeeded(self, event):
        cursor = event.reply.get("cursor") if hasattr(event.reply, "get") else None
        if cursor:
            self.documents += len(cursor.get("firstBatch", cursor.get("nextBatch", [])))

    def failed(self, event):
        pass


class Outbox:
    def publish(self, doc_id, rev, entries, collection=None):
        pass


class Catalog:
    def get_calendar(self, version):
        return {"holidays": ["2026-03-03"], "workdays": ["2026-03-07"]}


def decided(n):
    region, market_office, tax_office = PLACES[n % len(PLACES)]
    return {
        "application_id": f"a{n:04d}",
        "scenario": SCENARIOS[n % 2],
        "region": region,
        "catalog_version": 1,
        "applicant": {"id_number": APPLICANT, "kind": "enterprise"},
        "decision": {
            "outcome": ("approved", "rejected")[n % 5 == 0],
            "decided_at": MONDAY.isoformat(),
        },
        "tasks": [
            {"department": "market_regulation", "region": market_office, "item_code": "HN-SJ-0001"},
            {"department": "taxation", "region": tax_office, "item_code": f"HN-SW-000{n % 3}"},
        ],
    }


def body(level, department=None):
    return {
        "applicant_id": APPLICANT,
        "level": level,
        "channel": "online",
        "department": department,
        "comment": "窗口办理慢",
        "tags": [],
    }


def operator(department, **fields):
    return dict({"department": department, "officer": "王科长", "office_region": None}, **fields)


@pytest.fixture
def world(db, mongo_uri):
    calls = Calls()
    client = pymongo.MongoClient(mongo_uri, event_listeners=[calls])
    store = FeedbackStore(client[db.name])
    store.ensure_indexes()
    clock = {"now": MONDAY}
    Steps._sweep_after = None
    steps = Steps(store, Outbox(), LIMITS, Catalog(), lambda: clock["now"])
    yield store, steps, clock, calls
    client.close()


def apply_batch(steps, clock, first, count):
    """Decide, review and rectify applications first..first+count (each step chosen by n)."""
    clock["now"] = MONDAY + timedelta(hours=1)
    for n in range(first, first + count):
        steps.note_decided(decided(n))
        steps.note_decided(decided(n))  # the event again: counted once
        application_id = f"a{n:04d}"
        if n % 4 == 3:
            continue  # never reviewed: awaiting, then not_reviewed
        steps.review(application_id, body(LEVELS[n % 5]))
        if n % 4 != 2:
            steps.review(application_id, body(LEVELS[(n + 3) % 5], "taxation"))
            with pytest.raises(Conflicting):  # the same review again: 409, counted once
                steps.review(application_id, body("satisfied", "taxation"))
        if n % 6 == 1:
            review_id = domain.review_id(application_id, None)
            steps.follow_up(review_id, body(LEVELS[(n + 1) % 5]))
    clock["now"] = MONDAY + timedelta(hours=2)
    for n in range(first, first + count):
        case_id = domain.case_id(f"a{n:04d}", "taxation")
        case = steps.store.get("cases", case_id)
        if case is None:
            continue
        steps.open_case(case["review_id"])  # opened again (a crash's redo): counted once
        if n % 3 == 0:
            steps.record_visit(case_id, operator("taxation", method="phone", note=""))
            steps.record_rectification(case_id, operator("taxation", measures="加派窗口"))
            if n % 2:
                steps.confirm(case_id, {"applicant_id": APPLICANT, "comment": ""})
            else:
                steps.dispute(case_id, {"applicant_id": APPLICANT, "reason": "仍然很慢"})


def assert_agree(store, now):
    for region in (None, "430000", "430100", "430111", "430202"):
        assert store.check_review_tallies(now, region) == {}, region


def test_tallies_agree_with_a_recount_as_time_passes_and_the_sweep_catches_up(world):
    store, steps, clock, _ = world
    apply_batch(steps, clock, 0, 60)
    assert_agree(store, clock["now"])
    # deadlines pass (return visits due within a working day): late visits, overdue cases
    clock["now"] = MONDAY + timedelta(days=4)
    for n in range(1, 60, 3):
        case_id = domain.case_id(f"a{n:04d}", "taxation")
        if n % 2 and store.get("cases", case_id) is not None:
            steps.record_visit(case_id, operator("taxation", method="in_person", note=""))
    assert_agree(store, clock["now"])  # before the sweep: counted as now when read
    steps.supervise()
    assert_agree(store, clock["now"])
    # the review windows close: unreviewed targets become not_reviewed
    clock["now"] = MONDAY + timedelta(days=60)
    assert_agree(store, clock["now"])
    for _ in range(3):
        steps.supervise()
    assert (
        store.db.applications.count_documents({"tally_due_ts": {"$lt": clock["now"].timestamp()}})
        == 0
    )
    assert_agree(store, clock["now"])
    groups = store.tallied_review_statistics(clock["now"])["department"]
    taxation = next(g for g in groups if g["key"] == "taxation")
    # the batch exercised what it should: every part of the statistics is non-zero
    assert taxation["not_reviewed"] and taxation["reviewed"] and taxation["bad"]
    rectification = taxation["rectification"]
    assert rectification["closed"] and rectification["open"]
    assert rectification["visits_late"] and rectification["visits_on_time"]
    assert rectification["rectifications_late"] and rectification["rectifications_on_time"]
    # a rebuild from scratch gives the same tallies
    before = store.review_tallies(clock["now"])
    store.rebuild_review_tallies(clock["now"])
    assert store.review_tallies(clock["now"]) == {k: v for k, v in before.items() if v}


def test_a_replayed_decision_or_case_opening_moves_no_tally(world):
    store, steps, clock, _ = world
    apply_batch(steps, clock, 0, 12)
    before = store.review_tallies(clock["now"])
    for n in range(12):
        steps.note_decided(decided(n))
        review = store.get("reviews", domain.review_id(f"a{n:04d}", "taxation"))
        if review:
            steps.open_case(review["_id"])
    assert store.review_tallies(clock["now"]) == before


def test_a_statistics_call_and_a_scrape_read_the_same_few_documents_as_the_data_grows(world):
    store, steps, clock, calls = world
    read = []
    for first, count in ((0, 24), (24, 96)):
        apply_batch(steps, clock, first, count)
        steps.supervise()
        now = clock["now"]
        calls.commands = calls.documents = 0
        found = store.review_tallies(now, "430100", "department")
        tallies.report(found, "department", None, now)
        list(store_gauges(store, now))
        read.append((calls.commands, calls.documents))
        assert store.check_review_tallies(now) == {}
    documents = sum(store.db[c].count_documents({}) for c in ("applications", "reviews", "cases"))
    assert read[0] == read[1], read  # the same commands and documents with five times the data
    assert read[1][1] < documents / 4, (read, documents)


def test_the_bounded_reads_are_served_by_an_index(world):
    """The store's own plan (explain): the documents a read counts as now and the tallies of
    one dimension in a supervisor's region are found through an index, not a scan."""
    store, steps, clock, _ = world
    apply_batch(steps, clock, 0, 6)
    late = {"tally_due_ts": {"$lt": clock["now"].timestamp()}}
    plans = [
        store.db.applications.find(late).limit(200).explain(),
        store.db.cases.find(late).limit(200).explain(),
        store.db.review_tallies.find(
            {"dimension": "department", "region": {"$gte": "430100", "$lte": "430199"}}
        ).explain(),
    ]
    for plan in plans:
        winning = str(plan["queryPlanner"]["winningPlan"])
        assert "USING INDEX" in winning or "IXSCAN" in winning, winning


def test_the_operators_check_finds_a_tally_a_crash_left_behind_and_rebuilds_it(world):
    """A crash between a document's write and its `$inc` leaves a tally off by one: the
    operator's check (python -m ops.cli tallies check feedback) finds it, --rebuild fixes it."""
    store, steps, clock, _ = world
    apply_batch(steps, clock, 0, 9)
    now = clock["now"]
    assert tallies_check("feedback", store, now)["equal"]
    store.db.review_tallies.update_one(
        {"_id": "430102|department|taxation"}, {"$inc": {"n_reviewed": 1}}
    )
    found = tallies_check("feedback", store, now, rebuild=True)
    assert [d["dimension"] for d in found["differences"]] == ["department"]
    assert found["rebuilt"] and tallies_check("feedback", store, now)["equal"]


def test_the_first_start_after_the_upgrade_tallies_what_was_stored_before(db):
    """Documents stored before the tallies (no rev on applications, no reviewed_targets, no
    tallied) are counted once at the first ensure_indexes, and written again afterwards."""
    steps = Steps(None, Outbox(), LIMITS, Catalog(), lambda: MONDAY)
    application = domain.decided_application(decided(1), LIMITS, steps.calendar(1))
    db.applications.insert_one(dict(application, _id="old", review_state="reviewed"))
    review = domain.new_review(
        "old", application, body("dissatisfied", "taxation"), LIMITS, steps.calendar(1), MONDAY
    )
    db.reviews.insert_one(dict(review, rev=1))
    store = FeedbackStore(db)
    store.ensure_indexes()  # tallies as of the real clock: check at the real clock
    now = utcnow()
    assert store.application("old")["reviewed_targets"] == ["taxation"]
    assert store.check_review_tallies(now) == {}
    store.mark_reviewed("old", "taxation", now)  # compare-and-set without a rev
    assert store.application("old")["rev"] == 1
    assert store.check_review_tallies(now) == {}
    store.ensure_indexes()  # built once: a second start changes nothing
    assert store.check_review_tallies(now) == {}
