"""feedback's steps (read -> domain -> store-and-publish) with a hand-written store and outbox:
what is stored, what is published, and in which collection; no broker, no database."""

import copy
from datetime import timedelta

import pytest

from onestop.common.errors import Conflicting, Unknown
from services.feedback.steps import Steps
from tests.unit.test_feedback_domain import APPLICANT, LIMITS, MONDAY, application, review_body


class FakeStore:
    """The FeedbackStore methods the steps use, over dicts (rev compare-and-set included)."""

    def __init__(self):
        self.docs = {"applications": {"app1": application()}, "reviews": {}, "cases": {}}

    def application(self, application_id):
        return copy.deepcopy(self.docs["applications"].get(application_id))

    def get(self, collection, doc_id):
        return copy.deepcopy(self.docs[collection].get(doc_id))

    def insert(self, collection, doc, entries, now):
        if doc["_id"] in self.docs[collection]:
            return False
        self.docs[collection][doc["_id"]] = dict(copy.deepcopy(doc), rev=1, outbox=entries)
        return True

    def save(self, collection, doc, entries, now):
        stored = self.docs[collection].get(doc["_id"])
        if stored is None or stored["rev"] != doc["rev"]:
            return False
        outbox = dict(stored["outbox"], **entries)
        self.docs[collection][doc["_id"]] = dict(
            copy.deepcopy(doc), rev=doc["rev"] + 1, outbox=outbox
        )
        return True

    def mark_reviewed(self, application_id, target, now):
        application = self.docs["applications"][application_id]
        application["review_state"] = "reviewed"
        application.setdefault("reviewed_targets", []).append(target)

    def retally_due(self, now):
        self.retallied = now

    def reviews_awaiting_case(self):
        return [r for r in self.docs["reviews"].values() if r.get("case_pending")]

    def open_cases(self, after=None, limit=200):
        return [
            copy.deepcopy(c)
            for _, c in sorted(self.docs["cases"].items())
            if c["state"] != "closed" and (after is None or c["_id"] > after)
        ][:limit]

    def windows_closed_unreviewed(self, now):
        return []


class FakeOutbox:
    def __init__(self):
        self.published = []  # (collection, doc id, rev, event types)

    def publish(self, doc_id, rev, entries, collection=None):
        self.published.append(
            (collection, doc_id, rev, sorted(e["event_type"] for e in entries.values()))
        )


class FakeCatalog:
    def get_calendar(self, version):
        return {"holidays": ["2026-03-03"], "workdays": ["2026-03-07"]}


@pytest.fixture
def steps():
    clock = {"now": MONDAY}
    made = Steps(FakeStore(), FakeOutbox(), LIMITS, FakeCatalog(), lambda: clock["now"])
    made.clock = clock
    return made


def test_a_bad_review_is_stored_published_and_opens_its_case(steps):
    stored = steps.review("app1", review_body("dissatisfied", "taxation"))
    assert stored["case_id"] and stored["case_pending"] is False
    assert steps.store.docs["applications"]["app1"]["review_state"] == "reviewed"
    assert steps.store.docs["applications"]["app1"]["reviewed_targets"] == ["taxation"]
    assert steps.outbox.published == [
        ("reviews", stored["_id"], 1, ["review_submitted"]),
        ("cases", stored["case_id"], 1, ["rectification_opened"]),
    ]
    with pytest.raises(Conflicting, match="already been reviewed"):
        steps.review("app1", review_body("satisfied", "taxation"))


def test_case_steps_are_refused_out_of_order_and_close_with_an_event(steps):
    case_id = steps.review("app1", review_body("dissatisfied", "taxation"))["case_id"]
    with pytest.raises(Unknown):
        steps.confirm("C-none", {"applicant_id": APPLICANT, "comment": ""})
    with pytest.raises(Conflicting, match="awaiting_confirmation"):
        steps.confirm(case_id, {"applicant_id": APPLICANT, "comment": ""})
    officer = {"department": "taxation", "officer": "Wang"}
    steps.record_visit(case_id, dict(officer, method="phone", note="sorry"))
    steps.record_rectification(case_id, dict(officer, measures="second window"))
    view = steps.confirm(case_id, {"applicant_id": APPLICANT, "comment": "fine"})
    assert view["state"] == "closed" and view["id"] == case_id
    assert steps.outbox.published[-1] == ("cases", case_id, 4, ["rectification_closed"])
    assert len(steps.outbox.published) == 3  # the visit and the rectification publish nothing


def test_supervision_publishes_a_passed_deadline_once(steps):
    case_id = steps.review("app1", review_body("dissatisfied", "taxation"))["case_id"]
    steps.clock["now"] = MONDAY + timedelta(days=3)
    steps.supervise()
    steps.supervise()
    assert steps.outbox.published[-1] == ("cases", case_id, 2, ["rectification_overdue"])
    assert len(steps.outbox.published) == 3


def test_the_sweep_reads_open_cases_a_page_at_a_time_and_goes_round_them(monkeypatch):
    """Issue 14: a sweep reads at most SWEEP_PAGE open cases, never all of them."""
    store = FakeStore()
    for n in range(5):
        store.docs["cases"][f"c{n}"] = {"_id": f"c{n}", "state": "opened"}
    monkeypatch.setattr(Steps, "SWEEP_PAGE", 2)
    monkeypatch.setattr(Steps, "_sweep_after", None)
    seen = []
    steps = Steps(store, None, None, None, None)
    for _ in range(4):
        seen.append([c["_id"] for c in steps._next_open_cases()])
    assert seen == [["c0", "c1"], ["c2", "c3"], ["c4"], ["c0", "c1"]]
