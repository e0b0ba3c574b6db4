"""The published statistics (services/feedback/statistics.py) without a broker or database:
what one application contributes to which bucket, the rules behind each figure (on time,
working days, visits and materials saved, months in China time), that keeping the buckets
incrementally gives the same buckets as a recount from scratch whatever the order of the
events and however often each comes, and what GET /api/statistics accepts and answers."""

import copy

import pytest
from hypothesis import given, settings, strategies as st

from onestop.common.working_days import WorkingCalendar
from services.feedback import statistics
from services.feedback.statistics import ALL, bucket_key
from services.feedback.statistics_schemas import PublishedStatisticsQuerySchema, months_of

CALENDAR = WorkingCalendar({"years": [2026], "holidays": ["2026-10-01"], "workdays": []})


class FakeStatisticsStore:
    """The StatisticsStore methods statistics.refresh uses, over dicts (with the rev
    compare-and-set); `interfere` lets a test change the contribution behind its back."""

    def __init__(self):
        self.facts_docs, self.reviews, self.cases, self.buckets = {}, [], [], {}
        self.interfere = None

    def note_facts(self, application_id, name, facts):
        self.facts_docs.setdefault(application_id, {"_id": application_id})[name] = facts
        return copy.deepcopy(self.facts_docs[application_id])

    def facts(self, application_id):
        return copy.deepcopy(self.facts_docs.get(application_id))

    def reviews_of(self, application_id):
        return [r for r in self.reviews if r["application_id"] == application_id]

    def cases_of(self, application_id):
        return [c for c in self.cases if c["application_id"] == application_id]

    def save_contribution(self, application_id, rev, contributed):
        if self.interfere:
            self.interfere, interfere = None, self.interfere
            interfere()
        doc = self.facts_docs[application_id]
        if doc.get("rev") != rev:
            return False
        doc.update(contributed=copy.deepcopy(contributed), rev=(rev or 0) + 1)
        return True

    def add_to_buckets(self, diff):
        for key, figures in diff.items():
            bucket = self.buckets.setdefault(key, {})
            for figure, value in figures.items():
                bucket[figure] = bucket.get(figure, 0) + value

    def kept(self):
        return {
            k: {f: v for f, v in b.items() if v} for k, b in self.buckets.items() if any(b.values())
        }

    def recounted(self):
        return statistics.recount(list(self.facts_docs.values()), self.reviews, self.cases)


def submitted_event(
    app="a1", channel="online", region="430102", at="2026-03-02T09:00:00+08:00", reused=1
):
    materials = [{"code": "id_card", "file_id": "f1"}] + [
        {"code": f"licence{i}", "license_id": f"L{i}"} for i in range(reused)
    ]
    return {
        "application_id": app,
        "scenario": "enterprise_startup",
        "catalog_version": 1,
        "region": region,
        "channel": channel,
        "materials": materials,
        "optional_items": [],
        "submitted_at": at,
    }


PLAN = {"tasks": [{"department": "market"}, {"department": "taxation"}, {"department": "market"}]}


def decided_event(
    app="a1",
    outcome="approved",
    decided_at="2026-03-05T10:00:00+08:00",
    late=False,
    channel="online",
    region="430102",
):
    due = "2026-03-04T23:59:59+08:00" if late else "2026-03-09T23:59:59+08:00"
    return {
        "application_id": app,
        "scenario": "enterprise_startup",
        "region": region,
        "channel": channel,
        "submitted_at": "2026-03-02T09:00:00+08:00",
        "decision": {"outcome": outcome, "decided_at": decided_at},
        "tasks": [
            {
                "department": "market",
                "state": "approved",
                "due": "2026-03-09T23:59:59+08:00",
                "decided_at": "2026-03-03T10:00:00+08:00",
            },
            {
                "department": "taxation",
                "state": "approved" if outcome == "approved" else outcome,
                "due": due,
                "decided_at": decided_at,
            },
        ],
    }


def review(
    app="a1",
    target="service_center",
    level="satisfied",
    follow_up=None,
    at="2026-03-06T10:00:00+08:00",
):
    return {
        "_id": f"R-{app}-{target}",
        "application_id": app,
        "target": target,
        "level": level,
        "follow_up": {"level": follow_up} if follow_up else None,
        "created_at": at,
    }


def case(
    app="a1",
    department="taxation",
    state="awaiting_visit",
    opened="2026-03-06T11:00:00+08:00",
    closed=None,
):
    return {
        "_id": f"C-{app}-{department}",
        "application_id": app,
        "department": department,
        "state": state,
        "opened_at": opened,
        "closed_at": closed,
    }


def facts_of(submitted=None, decided=None):
    doc = {"_id": "a1"}
    if submitted:
        doc["submitted"] = statistics.submitted_facts(submitted, PLAN)
    if decided:
        doc["decided"] = statistics.decided_facts(decided, CALENDAR)
    return doc


# -- one application's contribution ------------------------------------------------------
def test_an_application_counts_once_in_all_and_once_under_each_department_taking_part():
    got = statistics.contribution(
        facts_of(submitted_event(), decided_event()),
        [review(), review(target="taxation", level="very_dissatisfied")],
        [case(state="closed", closed="2026-04-01T09:00:00+08:00")],
    )
    march_all = bucket_key("2026-03", ALL, "430102", "online")
    assert got[march_all] == {
        "submitted": 1,
        "materials_saved": 1,
        "visits_saved": 2,  # two departments, both windows avoided online
        "decided": 1,
        "approved": 1,
        "decided_on_time": 1,
        "working_days": 3,  # Mon 2 March -> Thu 5 March
        "review_satisfied": 1,
        "review_very_dissatisfied": 1,
        "rectifications_opened": 1,
    }
    assert got[bucket_key("2026-03", "market", "430102", "online")] == {
        "submitted": 1,
        "materials_saved": 1,
        "visits_saved": 2,
        "decided": 1,
        "approved": 1,
        "decided_on_time": 1,
        "working_days": 3,
    }
    # reviews and cases count under the department they are addressed to only
    assert (
        got[bucket_key("2026-03", "taxation", "430102", "online")]["review_very_dissatisfied"] == 1
    )
    assert got[bucket_key("2026-03", "service_center", "430102", "online")] == {
        "review_satisfied": 1
    }
    # closed in April: counted in April's buckets
    assert got[bucket_key("2026-04", ALL, "430102", "online")] == {"rectifications_closed": 1}
    assert got[bucket_key("2026-04", "taxation", "430102", "online")] == {
        "rectifications_closed": 1
    }


def test_decided_on_time_means_every_department_decided_by_its_promised_date():
    late = statistics.decided_facts(decided_event(late=True), CALENDAR)
    assert statistics.on_time(statistics.decided_facts(decided_event(), CALENDAR))
    assert not statistics.on_time(late)
    # cancelled tasks do not count; a rejection on time is on time
    rejected = decided_event(outcome="rejected")
    rejected["tasks"].append(
        {
            "department": "hrss",
            "state": "cancelled",
            "due": None,
            "decided_at": "2026-03-05T10:00:00+08:00",
        }
    )
    assert statistics.on_time(statistics.decided_facts(rejected, CALENDAR))
    # an event older than the `due` field cannot show it was on time
    old = decided_event()
    for task in old["tasks"]:
        del task["due"]
    assert not statistics.on_time(statistics.decided_facts(old, CALENDAR))


def test_working_days_skip_weekends_and_holidays():
    event = decided_event(decided_at="2026-10-05T10:00:00+08:00")
    event["submitted_at"] = "2026-09-29T09:00:00+08:00"  # Tue; Wed 30 on, Thu 1 Oct holiday
    assert statistics.decided_facts(event, CALENDAR)["working_days"] == 3  # Wed 30, Fri 2, Mon 5


def test_withdrawn_applications_are_not_decided_ones():
    got = statistics.contribution(
        facts_of(submitted_event(), decided_event(outcome="withdrawn")), [], []
    )
    assert got[bucket_key("2026-03", ALL, "430102", "online")] == {
        "submitted": 1,
        "materials_saved": 1,
        "visits_saved": 2,
        "withdrawn": 1,
    }


def test_months_are_china_months():
    assert statistics.month_of("2026-01-31T17:00:00+00:00") == "2026-02"
    assert statistics.month_of("2026-01-31T15:59:59+00:00") == "2026-01"


@pytest.mark.parametrize(
    "channel, departments, saved",
    [
        ("online", ["a", "b", "c"], 3),
        ("mobile", ["a"], 1),
        ("counter", ["a", "b", "c"], 2),
        ("counter", ["a"], 0),
    ],
)
def test_visits_saved_rule(channel, departments, saved):
    assert statistics.visits_saved(channel, departments) == saved


def test_a_follow_up_review_moves_the_review_to_its_new_level():
    store = FakeStatisticsStore()
    store.note_facts("a1", "submitted", statistics.submitted_facts(submitted_event(), PLAN))
    store.reviews.append(review(target="taxation", level="dissatisfied"))
    statistics.refresh(store, "a1")
    store.reviews[0]["follow_up"] = {"level": "satisfied"}
    diff = statistics.refresh(store, "a1")
    for department in (ALL, "taxation"):
        assert diff[bucket_key("2026-03", department, "430102", "online")] == {
            "review_dissatisfied": -1,
            "review_satisfied": 1,
        }
    assert store.kept() == store.recounted()


# -- incremental == from scratch --------------------------------------------------------
def test_the_same_event_twice_counts_once():
    store = FakeStatisticsStore()
    store.note_facts("a1", "submitted", statistics.submitted_facts(submitted_event(), PLAN))
    assert statistics.refresh(store, "a1")
    once = copy.deepcopy(store.kept())
    store.note_facts("a1", "submitted", statistics.submitted_facts(submitted_event(), PLAN))
    assert statistics.refresh(store, "a1") == {}
    assert store.kept() == once


def test_a_concurrent_change_is_counted_once_by_the_writer_that_won():
    store = FakeStatisticsStore()
    store.note_facts("a1", "submitted", statistics.submitted_facts(submitted_event(), PLAN))

    def another_handler_refreshes_first():
        store.note_facts("a1", "decided", statistics.decided_facts(decided_event(), CALENDAR))
        statistics.refresh(store, "a1")

    store.interfere = another_handler_refreshes_first
    statistics.refresh(store, "a1")  # loses its first compare-and-set, reads again
    assert store.kept() == store.recounted()
    assert store.kept()[bucket_key("2026-03", ALL, "430102", "online")]["submitted"] == 1


def test_a_refresh_from_the_facts_its_write_returned_reads_again_when_they_are_stale():
    store = FakeStatisticsStore()
    written = store.note_facts(
        "a1", "submitted", statistics.submitted_facts(submitted_event(), PLAN)
    )
    # another handler counts the decision between this write and this refresh
    store.note_facts("a1", "decided", statistics.decided_facts(decided_event(), CALENDAR))
    statistics.refresh(store, "a1")
    statistics.refresh(store, "a1", doc=written)  # its compare-and-set on rev fails: reads
    assert store.kept() == store.recounted()
    assert store.kept()[bucket_key("2026-03", ALL, "430102", "online")]["decided"] == 1


def test_an_unknown_application_contributes_nothing_until_its_facts_arrive():
    store = FakeStatisticsStore()
    store.reviews.append(review())
    assert statistics.refresh(store, "a1") == {}
    store.facts_docs["a1"] = {"_id": "a1"}  # a review's refresh before any fact
    assert statistics.refresh(store, "a1") == {}
    store.note_facts("a1", "decided", statistics.decided_facts(decided_event(), CALENDAR))
    statistics.refresh(store, "a1")
    assert store.kept()[bucket_key("2026-03", "service_center", "430102", "online")] == {
        "review_satisfied": 1
    }


def test_compare_names_each_figure_that_differs():
    store = FakeStatisticsStore()
    store.note_facts("a1", "submitted", statistics.submitted_facts(submitted_event(), PLAN))
    statistics.refresh(store, "a1")
    tampered = store.kept()
    key = bucket_key("2026-03", ALL, "430102", "online")
    tampered[key]["submitted"] = 5
    assert statistics.compare(tampered, store.recounted()) == [(key, "submitted", 5, 1)]
    assert statistics.compare(store.kept(), store.recounted()) == []


EVENT_KINDS = ("submitted", "decided", "review", "follow_up", "case_opened", "case_closed")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a1", "a2", "a3"]), st.sampled_from(EVENT_KINDS)),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from(["online", "mobile", "counter"]),
)
def test_kept_buckets_equal_the_recount_whatever_the_order_and_repetitions(events, channel):
    """Events of three applications in any order, each any number of times (a replay): after
    each, the buckets kept by refresh equal a recount from the stored documents."""
    store = FakeStatisticsStore()
    for app, kind in events:
        if kind == "submitted":
            store.note_facts(
                app, "submitted", statistics.submitted_facts(submitted_event(app, channel), PLAN)
            )
        elif kind == "decided":
            store.note_facts(
                app,
                "decided",
                statistics.decided_facts(decided_event(app, channel=channel), CALENDAR),
            )
        elif kind == "review" and not store.reviews_of(app):
            store.reviews.append(review(app, level="dissatisfied"))
        elif kind == "follow_up":
            for r in store.reviews_of(app):
                r["follow_up"] = {"level": "very_satisfied"}
        elif kind == "case_opened" and not store.cases_of(app):
            store.cases.append(case(app))
        elif kind == "case_closed":
            for c in store.cases_of(app):
                c.update(state="closed", closed_at="2026-05-02T10:00:00+08:00")
        statistics.refresh(store, app)
        assert store.kept() == store.recounted()


# -- the report and its query --------------------------------------------------------------
def buckets_of_three():
    store = FakeStatisticsStore()
    for app, channel, region, month in (
        ("a1", "online", "430102", "03"),
        ("a2", "counter", "430103", "03"),
        ("a3", "mobile", "430202", "04"),
    ):
        submitted = submitted_event(
            app, channel, region, at=f"2026-{month}-02T09:00:00+08:00", reused=0
        )
        store.note_facts(app, "submitted", statistics.submitted_facts(submitted, PLAN))
        store.note_facts(
            app,
            "decided",
            statistics.decided_facts(decided_event(app, channel=channel, region=region), CALENDAR),
        )
        statistics.refresh(store, app)
    return store.kept()


def test_the_report_adds_up_regions_beneath_a_city_and_derives_rates():
    buckets = buckets_of_three()
    everything = statistics.report(buckets, {})["totals"]
    assert everything["applications_submitted"] == 3
    assert everything["submitted_by_channel"] == {"online": 1, "mobile": 1, "counter": 1}
    assert everything["share_online"] == round(2 / 3, 4)
    assert everything["applications_decided"] == 3 and everything["on_time_rate"] == 1.0
    assert everything["average_working_days"] == 3.0
    changsha = statistics.report(buckets, {"region": "430100"})
    assert changsha["totals"]["applications_submitted"] == 2
    assert [m["month"] for m in changsha["months"]] == ["2026-03"]
    assert statistics.report(buckets, {"region": "430000"})["totals"]["applications_submitted"] == 3
    assert (
        statistics.report(buckets, {"region": "430103"})["totals"]["submitted_by_channel"][
            "counter"
        ]
        == 1
    )
    april = statistics.report(buckets, {"from": "2026-04", "to": "2026-04"})["totals"]
    assert april["applications_submitted"] == 1 and april["share_online"] == 1.0
    nothing = statistics.report(buckets, {"channel": "counter", "from": "2026-04"})["totals"]
    assert nothing["applications_submitted"] == 0
    assert nothing["share_online"] is None and nothing["average_working_days"] is None
    assert (
        statistics.report(buckets, {"department": "taxation"})["totals"]["applications_decided"]
        == 3
    )


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"month": "2026-13"}, {"month"}),
        ({"month": "202603"}, {"month"}),
        ({"month": "2026-03", "from": "2026-01"}, {"month"}),
        ({"from": "2026-05", "to": "2026-03"}, {"from"}),
        ({"channel": "fax"}, {"channel"}),
        ({"region": "43"}, {"region"}),
        ({"department": "Health!"}, {"department"}),
        ({"applicant": "430102199201011228"}, {"applicant"}),
    ],
)
def test_bad_filters_are_refused_per_field(params, fields):
    assert set(PublishedStatisticsQuerySchema().validate(params)) == fields


def test_a_month_is_a_range_of_one():
    query = months_of(PublishedStatisticsQuerySchema().load({"month": "2026-03"}))
    assert (query["from"], query["to"]) == ("2026-03", "2026-03")
    query = months_of(PublishedStatisticsQuerySchema().load({"from": "2026-01"}))
    assert (query["from"], query["to"]) == ("2026-01", None)
