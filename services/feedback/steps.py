"""feedback's changes of state, each one read -> domain rule -> store-and-publish.

The service builds a `Steps` per worker from its dependencies and each entrypoint calls one
method. No nameko here: tested with a fake store and outbox, no broker. A change is stored
with its events in the same write (`outbox.<id>` entries) and published from there by the
service's `Outbox`, whose own sweep re-sends what a crash or a broker outage left behind.
Refusals are raised by the domain (onestop.common.errors) or here, when the store says the
document changed meanwhile.
"""

from onestop.common.errors import Conflicting, Unknown
from onestop.common.outbox import event, with_ids
from onestop.common.working_days import WorkingCalendar
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import APPLICATION_DECIDED
from services.feedback import domain
from services.feedback.metrics import FOLLOW_UPS, NOT_REVIEWED, REVIEWS, count_case_events


def entries_of(events):
    """(event type, body) pairs as outbox entries, each under a new message id."""
    return with_ids([event(event_type, body) for event_type, body in events])


class Steps:
    # catalog version (None: the current catalog) -> its working-day calendar, per process
    _calendars = {}
    SWEEP_PAGE = 200
    _sweep_after = None  # where the sweep of open cases goes on from, per process

    def __init__(self, store, outbox, limits, catalog, now):
        self.store, self.outbox, self.limits = store, outbox, limits
        self.catalog, self.now = catalog, now

    # -- applications ------------------------------------------------------------------
    def note_decided(self, decided):
        """Keep a decided application with its review window."""
        try:
            fields = domain.decided_application(
                decided, self.limits, self.calendar(decided.get("catalog_version"))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidMessage(f"bad {APPLICATION_DECIDED}: {exc!r}") from None
        self.store.note_decided(decided["application_id"], fields, self.now())

    # -- reviews -------------------------------------------------------------------------
    def review(self, application_id, body):
        """Store and publish the applicant's review (opening its case when bad); the review
        as stored."""
        application = self.store.application(application_id)
        now = self.now()
        existing = self.store.get("reviews", domain.review_id(application_id, body["department"]))
        domain.check_reviewable(
            application, body["applicant_id"], body["department"], existing, now
        )
        review = domain.new_review(
            application_id,
            application,
            body,
            self.limits,
            self.calendar(application.get("catalog_version")),
            now,
        )
        entries = entries_of(domain.review_submitted(review, now))
        if not self.store.insert("reviews", review, entries, now):
            raise Conflicting("this has already been reviewed")
        self.store.mark_reviewed(application_id, review["target"], now)
        REVIEWS.labels(review["target"], review["level"]).inc()
        self.outbox.publish(review["_id"], 1, entries, collection="reviews")
        return self._with_case_opened(review)

    def follow_up(self, review_id, body):
        """Store and publish the follow-up of a review (opening a case when it is bad); the
        review as stored."""
        review = self.store.get("reviews", review_id)
        now = self.now()
        domain.check_follow_up(review, body["applicant_id"], now)
        updated = domain.add_follow_up(review, body, now)
        entries = entries_of(domain.review_submitted(updated, now))
        if not self.store.save("reviews", updated, entries, now):
            raise Conflicting("the review changed meanwhile; try again")
        FOLLOW_UPS.labels(review["target"], body["level"]).inc()
        self.outbox.publish(review_id, review["rev"] + 1, entries, collection="reviews")
        return self._with_case_opened(updated)

    def _with_case_opened(self, review):
        if review["case_pending"]:
            self.open_case(review["_id"])
        return self.store.get("reviews", review["_id"])

    # -- rectification cases -------------------------------------------------------------
    def open_case(self, review_id):
        """Open the case of a bad review (idempotent: the case id follows from the review)."""
        review = self.store.get("reviews", review_id)
        if review is None or not review.get("case_pending"):
            return
        now = self.now()
        case = domain.open_case(review, self.limits, self.calendar(None), now)
        events = domain.case_opened(case, now)
        entries = entries_of(events)
        if self.store.insert("cases", case, entries, now):
            count_case_events(case, events)
            self.outbox.publish(case["_id"], 1, entries, collection="cases")
        self.store.save("reviews", dict(review, case_id=case["_id"], case_pending=False), {}, now)

    def record_visit(self, case_id, body):
        return self._change_case(case_id, lambda case, now: domain.record_visit(case, body, now))

    def record_rectification(self, case_id, body):
        return self._change_case(
            case_id,
            lambda case, now: domain.record_rectification(case, body, self.calendar(None), now),
        )

    def confirm(self, case_id, body):
        return self._change_case(case_id, lambda case, now: domain.confirm(case, body, now))

    def dispute(self, case_id, body):
        return self._change_case(
            case_id, lambda case, now: domain.dispute(case, body, self.calendar(None), now)
        )

    def _change_case(self, case_id, step):
        """Apply one step to the case (the domain refuses what is out of order or not the
        caller's); the case as stored, as shown."""
        case = self.store.get("cases", case_id)
        if case is None:
            raise Unknown(f"no rectification case {case_id}")
        now = self.now()
        updated = step(case, now)
        if not self._save_case(updated, domain.step_events(updated, now), now):
            raise Conflicting("the case changed meanwhile; try again")
        return domain.case_view(self.store.get("cases", case_id), now)

    def _save_case(self, case, events, now):
        """Write a changed case with its events if nobody wrote it since it was read; count
        and publish them. False when it changed meanwhile."""
        entries = entries_of(events)
        if not self.store.save("cases", case, entries, now):
            return False
        count_case_events(case, events)
        if entries:
            self.outbox.publish(case["_id"], case["rev"] + 1, entries, collection="cases")
        return True

    # -- supervision ---------------------------------------------------------------------
    def supervise(self):
        """Open cases that a crash left unopened; publish deadlines passed (once per case and
        deadline); close cases the applicant left unanswered; count applications whose
        review window closed without a review; re-tally what time alone changed."""
        now = self.now()
        for review in self.store.reviews_awaiting_case():
            self.open_case(review["_id"])
        for case in self._next_open_cases():
            change = domain.supervision(case, now)
            if change is not None:
                changed, events = change
                self._save_case(changed, events, now)
        for application in self.store.windows_closed_unreviewed(now):
            if self.store.mark_not_reviewed(application["_id"]):
                NOT_REVIEWED.labels(application.get("scenario", "unknown")).inc()
        self.store.retally_due(now)  # review windows closed, deadlines passed (adr/0016)

    def _next_open_cases(self):
        """The next page of open cases (SWEEP_PAGE), round and round in id order: a sweep
        reads a bounded number of cases; with more open cases than a page, each is looked
        at every (open cases / SWEEP_PAGE) sweeps."""
        cases = self.store.open_cases(after=Steps._sweep_after, limit=self.SWEEP_PAGE)
        Steps._sweep_after = cases[-1]["_id"] if len(cases) == self.SWEEP_PAGE else None
        return cases

    # -- the catalog's calendar ----------------------------------------------------------
    def calendar(self, version):
        """The catalog's working-day calendar (version None: the current catalog)."""
        if version not in self._calendars:
            self._calendars[version] = WorkingCalendar(self.catalog.get_calendar(version))
        return self._calendars[version]
