"""The review statistics from tallies (services/feedback/tallies.py) give what
domain.statistics gives from every document, at the moment of the write and later, when time
alone has moved counts (a review window closed, a deadline passed) and the documents past
their due moment are counted as now."""

from datetime import timedelta

from services.feedback import domain, tallies
from tests.unit.test_feedback_domain import MONDAY, application, case, review

LATER = (MONDAY, MONDAY + timedelta(days=4), MONDAY + timedelta(days=60))


def documents():
    apps = [dict(application(), _id=f"a{i}") for i in range(4)]
    apps[0]["reviewed_targets"] = ["taxation"]
    apps[1]["reviewed_targets"] = ["taxation", "service_center"]
    reviews = [
        dict(review("very_satisfied", "taxation"), application_id="a0"),
        dict(review("very_dissatisfied", "taxation"), application_id="a1"),
        dict(review("satisfied", None), application_id="a1", target="service_center"),
    ]
    return apps, reviews, [case()]


def tallied(apps, reviews, cases, written_at, now):
    """The tallies as written at `written_at`, read at `now` (late documents adjusted)."""
    found = {}
    stored = {"applications": apps, "reviews": reviews, "cases": cases}
    for collection, docs in stored.items():
        for doc in docs:
            doc["tallied"] = tallies.contribution(collection, doc, written_at)
            doc["tally_due_ts"] = tallies.due_ts(collection, doc, written_at)
            for tally, counts in tallies.difference([], doc["tallied"]).items():
                entry = found.setdefault(tally, {})
                for name, n in counts.items():
                    entry[name] = entry.get(name, 0) + n
    for collection, docs in stored.items():
        late = [
            d for d in docs if d["tally_due_ts"] is not None and d["tally_due_ts"] < now.timestamp()
        ]
        tallies.adjusted(found, collection, late, now)
    return found


def test_the_tallies_give_the_statistics_of_every_document_now_and_later():
    apps, reviews, cases = documents()
    for now in LATER:
        found = tallied(apps, reviews, cases, MONDAY, now)
        for dimension in domain.DIMENSIONS:
            expected = domain.statistics_report(apps, reviews, cases, dimension, None, now)
            assert tallies.report(found, dimension, None, now) == expected, (dimension, now)
    late = tallies.groups(tallied(apps, reviews, cases, MONDAY, LATER[2]), "department")
    taxation = {g["key"]: g for g in late}["taxation"]
    assert (taxation["not_reviewed"], taxation["rectification"]["visits_late"]) == (2, 1)


def test_a_document_written_again_unchanged_moves_nothing():
    apps, reviews, cases = documents()
    for collection, doc in (
        ("applications", apps[0]),
        ("reviews", reviews[0]),
        ("cases", cases[0]),
    ):
        rows = tallies.contribution(collection, doc, MONDAY)
        assert (
            rows and tallies.difference(rows, tallies.contribution(collection, doc, MONDAY)) == {}
        )


def test_due_moments_are_the_next_change_by_time_alone():
    apps, reviews, cases = documents()
    assert tallies.due_ts("applications", apps[0], MONDAY) == apps[0]["review_due_ts"]
    everything = dict(apps[0], reviewed_targets=["taxation", "market_regulation", "service_center"])
    assert tallies.due_ts("applications", everything, MONDAY) is None  # nothing left to close
    assert tallies.due_ts("reviews", reviews[0], MONDAY) is None
    visit_due = domain.parse(cases[0]["visit_due"]).timestamp()
    assert tallies.due_ts("cases", cases[0], MONDAY) == visit_due
    after_visit = MONDAY + timedelta(days=4)
    rectify_due = domain.parse(cases[0]["rectify_due"]).timestamp()
    assert tallies.due_ts("cases", cases[0], after_visit) == rectify_due
    assert tallies.due_ts("cases", dict(cases[0], state="closed"), MONDAY) is None
