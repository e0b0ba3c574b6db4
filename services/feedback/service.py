"""feedback: good/bad reviews of decided applications; rectification cases of bad ones;
statistics over HTTP and as Prometheus metrics."""
import logging
import uuid

from nameko.events import EventDispatcher
from nameko.timer import timer
from prometheus_client import Counter

from onestop.common.working_days import WorkingCalendar
from onestop.common.catalog_client import CatalogProxy
from onestop.common import outbox
from onestop.common.auth import Forbidden, acting_applicant, may_read_application
from onestop.common.clock import Clock
from onestop.common.collectors import StoreGauges
from onestop.common.http import (http, read_json, load, load_query, BadRequest, Conflict,
                                 NotFound)
from onestop.common.messaging import event_handler
from onestop.common.service import ServiceBase
from onestop.common.mongo import Storage
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import (load_event, APPLICATION_DECIDED, APPLICATION_SUBMITTED,
                                      RECTIFICATION_CLOSED, RECTIFICATION_OPENED,
                                      RECTIFICATION_OVERDUE, REVIEW_SUBMITTED,
                                      ApplicationDecidedSchema, ApplicationSubmittedSchema)
from services.feedback import domain
from services.feedback.limits import ReviewLimits
from services.feedback.metrics import store_gauges
from services.feedback.schemas import (CaseQuerySchema, ConfirmationSchema, DisputeSchema,
                                      FollowUpSchema, RectificationSchema, ReviewSchema,
                                      StatsQuerySchema, VisitSchema)
from services.feedback.store import FeedbackStore

log = logging.getLogger(__name__)

REVIEWS = Counter("feedback_reviews_total", "Reviews by target and level (department "
                  "service_center: the application as a whole)", ["department", "level"])
FOLLOW_UPS = Counter("feedback_follow_up_reviews_total", "Follow-up reviews by level",
                     ["department", "level"])
CASES_OPENED = Counter("feedback_rectification_cases_opened_total",
                       "Rectification cases opened by bad reviews", ["department"])
CASES_CLOSED = Counter("feedback_rectification_cases_closed_total",
                       "Rectification cases closed, by the applicant's answer "
                       "(confirmed, not_answered)", ["department", "answer"])
OVERDUE = Counter("feedback_rectifications_overdue_total",
                  "Rectification deadlines passed (published as rectification_overdue)",
                  ["department", "deadline"])
NOT_REVIEWED = Counter("feedback_applications_not_reviewed_total",
                       "Decided applications whose review window closed without a review",
                       ["scenario"])


ERRORS = {400: BadRequest, 403: Forbidden, 404: NotFound, 409: Conflict}


class FeedbackService(ServiceBase):
    name = "feedback"

    store = Storage(FeedbackStore, "feedback")
    gauges = StoreGauges(FeedbackStore, "feedback", store_gauges)
    catalog = CatalogProxy()
    # notifications: confirmed, not mandatory (no subscriber yet is normal); the outbox
    # guarantees each is published once the state change that caused it is stored
    dispatch = EventDispatcher()
    limits = ReviewLimits()
    now = Clock()

    _calendars = {}

    # -- events in -------------------------------------------------------------------
    @event_handler("intake", APPLICATION_SUBMITTED)
    def handle_application_submitted(self, payload):
        submitted = load_event(ApplicationSubmittedSchema, payload, APPLICATION_SUBMITTED)
        self.store.note_submitted(submitted["application_id"],
                                  submitted["applicant"]["id_number"], submitted["scenario"],
                                  self.now())

    @event_handler("routing", APPLICATION_DECIDED)
    def handle_application_decided(self, payload):
        decided = load_event(ApplicationDecidedSchema, payload, APPLICATION_DECIDED)
        try:
            fields = domain.decided_application(
                decided, self.limits, self._calendar(decided.get("catalog_version")))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidMessage(f"bad {APPLICATION_DECIDED}: {exc!r}") from None
        self.store.note_decided(decided["application_id"], fields, self.now())

    # -- reviews ---------------------------------------------------------------------
    @http("POST", "/api/applications/<string:application_id>/reviews")
    def review(self, request, application_id):
        principal = self.auth.require(request, "applicant", "clerk")
        body = load(ReviewSchema(), read_json(request))
        body["applicant_id"] = acting_applicant(principal, body["applicant_id"])
        application = self.store.application(application_id)
        now = self.now()
        existing = self.store.get("reviews", domain.review_id(application_id,
                                                              body["department"]))
        _refusing(domain.check_reviewable, application, body["applicant_id"],
                  body["department"], existing, now)
        review = domain.new_review(application_id, application, body, self.limits,
                                   self._calendar(application.get("catalog_version")), now)
        entries = _entries(REVIEW_SUBMITTED, domain.review_event(review, now))
        if not self.store.insert("reviews", review, entries, now):
            raise Conflict("this has already been reviewed")
        self.store.mark_reviewed(application_id)
        REVIEWS.labels(review["target"], review["level"]).inc()
        self._settle("reviews", review["_id"])
        if review["case_pending"]:
            self._open_case(review["_id"])
        return 201, domain.review_view(self.store.get("reviews", review["_id"]))

    @http("GET", "/api/applications/<string:application_id>/reviews")
    def reviews_of(self, request, application_id):
        principal = self.auth.require(request)
        application = self.store.application(application_id)
        allowed = application is not None and (
            may_read_application(principal, application.get("applicant_id"))
            or (principal.role == "officer"
                and principal.department in application.get("departments", ())))
        if not allowed:
            raise NotFound("no decided application with this id is known to reviews")
        return {"application_id": application_id,
                "reviews": [domain.review_view(r) for r in self.store.reviews_of(application_id)]}

    @http("POST", "/api/reviews/<string:review_id>/follow-up")
    def follow_up(self, request, review_id):
        principal = self.auth.require(request, "applicant", "clerk")
        body = load(FollowUpSchema(), read_json(request))
        body["applicant_id"] = acting_applicant(principal, body["applicant_id"])
        review = self.store.get("reviews", review_id)
        now = self.now()
        _refusing(domain.check_follow_up, review, body["applicant_id"], now)
        updated = domain.add_follow_up(review, body, now)
        if not self.store.save("reviews", updated,
                               _entries(REVIEW_SUBMITTED, domain.review_event(updated, now)),
                               now):
            raise Conflict("the review changed meanwhile; try again")
        FOLLOW_UPS.labels(review["target"], body["level"]).inc()
        self._settle("reviews", review_id)
        if updated["case_pending"]:
            self._open_case(review_id)
        return 201, domain.review_view(self.store.get("reviews", review_id))

    @http("GET", "/api/reviews/stats")
    def statistics(self, request):
        self.auth.require(request, "supervisor", "operator")
        query = load_query(StatsQuerySchema(), request)
        now = self.now()
        groups = domain.statistics(self.store.decided_applications(), self.store.all_reviews(),
                                   self.store.all_cases(), query["by"], now)
        if query["key"]:
            groups = [g for g in groups if g["key"] == query["key"]]
        return {"by": query["by"], "as_of": now.isoformat(), "levels": list(domain.LEVELS),
                "good_levels": list(domain.GOOD_LEVELS), "groups": groups}

    # -- rectification cases -----------------------------------------------------------
    @http("GET", "/api/rectifications")
    def list_cases(self, request):
        principal = self.auth.require(request, "officer", "supervisor", "operator")
        query = load_query(CaseQuerySchema(), request)
        if principal.role == "officer":  # an office sees its own department's cases
            if query["department"] not in (None, principal.department):
                raise Forbidden("an officer sees their own department's cases")
            query["department"] = principal.department
        now = self.now()
        views = [domain.case_view(c, now) for c in self.store.list_cases(
            query["department"], query["state"], query["limit"])]
        if query["overdue"] is not None:
            views = [v for v in views if bool(v["overdue_now"]) is query["overdue"]]
        return {"cases": views}

    @http("GET", "/api/rectifications/<string:case_id>")
    def show_case(self, request, case_id):
        principal = self.auth.require(request)
        case = self._case(case_id)
        if not (principal.role in ("supervisor", "operator")
                or (principal.role == "officer" and principal.department == case["department"])
                or principal.is_applicant(case.get("applicant_id"))):
            raise NotFound(f"no rectification case {case_id}")
        return domain.case_view(case, self.now())

    @http("POST", "/api/rectifications/<string:case_id>/visit")
    def record_visit(self, request, case_id):
        body = self._as_department(request, VisitSchema())
        return self._step(case_id, lambda case, now: domain.record_visit(case, body, now))

    @http("POST", "/api/rectifications/<string:case_id>/rectify")
    def record_rectification(self, request, case_id):
        body = self._as_department(request, RectificationSchema())
        return self._step(case_id, lambda case, now: domain.record_rectification(
            case, body, self._calendar(None), now))

    @http("POST", "/api/rectifications/<string:case_id>/confirm")
    def confirm(self, request, case_id):
        principal = self.auth.require(request, "applicant", "clerk")
        body = load(ConfirmationSchema(), read_json(request))
        body["applicant_id"] = acting_applicant(principal, body["applicant_id"])
        return self._step(case_id, lambda case, now: domain.confirm(case, body, now))

    @http("POST", "/api/rectifications/<string:case_id>/dispute")
    def dispute(self, request, case_id):
        principal = self.auth.require(request, "applicant", "clerk")
        body = load(DisputeSchema(), read_json(request))
        body["applicant_id"] = acting_applicant(principal, body["applicant_id"])
        return self._step(case_id, lambda case, now: domain.dispute(
            case, body, self._calendar(None), now))

    # -- supervision -------------------------------------------------------------------
    @timer(interval=2)
    def sweep(self):
        """Open cases that a crash left unopened; publish deadlines passed (once per case and
        deadline); close cases the applicant left unanswered; count applications whose review
        window closed without a review; re-send the outbox."""
        now = self.now()
        for review in self.store.reviews_awaiting_case():
            self._open_case(review["_id"])
        for case in self.store.open_cases():
            self._supervise(case, now)
        for application in self.store.windows_closed_unreviewed(now):
            if self.store.mark_not_reviewed(application["_id"]):
                NOT_REVIEWED.labels(application.get("scenario", "unknown")).inc()
        for collection in ("reviews", "cases"):
            outbox.sweep(self.store.db[collection], self._publishers(), now)

    def _supervise(self, case, now):
        closed = domain.close_unanswered(case, now)
        if closed is not None:
            if self._save_case(closed, now, {}):
                CASES_CLOSED.labels(case["department"], "not_answered").inc()
            return
        found = domain.newly_overdue(case, now)
        if not found:
            return
        marked = domain.mark_overdue(case, found, now)
        entries = {}
        for _, deadline, due in found:
            entries.update(_entries(RECTIFICATION_OVERDUE,
                                    domain.case_event(marked, now, deadline, due)))
        if self.store.save("cases", marked, entries, now):
            for _, deadline, _ in found:
                OVERDUE.labels(case["department"], deadline).inc()
            self._settle("cases", case["_id"])

    # -- machinery ---------------------------------------------------------------------
    def _open_case(self, review_id):
        """Open the case of a bad review (idempotent: the case id follows from the review)."""
        review = self.store.get("reviews", review_id)
        if review is None or not review.get("case_pending"):
            return
        now = self.now()
        case = domain.open_case(review, self.limits, self._calendar(None), now)
        if self.store.insert("cases", case, _entries(RECTIFICATION_OPENED,
                                                     domain.case_event(case, now)), now):
            CASES_OPENED.labels(case["department"]).inc()
            self._settle("cases", case["_id"])
        self.store.save("reviews", dict(review, case_id=case["_id"], case_pending=False), {},
                        now)

    def _as_department(self, request, schema):
        """A department's officer records its own case steps (an operator names them)."""
        principal = self.auth.require(request, "officer", "operator")
        body = load(schema, read_json(request))
        if principal.role == "officer":
            if body["department"] not in (None, principal.department):
                raise Forbidden("an officer acts for their own department")
            body["department"] = principal.department
            body["officer"] = body["officer"] or principal.name or principal.sub
        elif not body["department"] or not body["officer"]:
            raise BadRequest("name the department and officer", fields={
                k: ["required"] for k in ("department", "officer") if not body[k]})
        return body

    def _step(self, case_id, step):
        case = self._case(case_id)
        now = self.now()
        updated = _refusing(step, case, now)
        if not self._save_case(updated, now, {}):
            raise Conflict("the case changed meanwhile; try again")
        if updated["state"] == "closed":
            CASES_CLOSED.labels(updated["department"], updated["confirmation"]["answer"]).inc()
        return domain.case_view(self.store.get("cases", case_id), now)

    def _save_case(self, case, now, entries):
        if case["state"] == "closed":
            entries = dict(entries, **_entries(RECTIFICATION_CLOSED, domain.case_event(case, now)))
        if not self.store.save("cases", case, entries, now):
            return False
        self._settle("cases", case["_id"])
        return True

    def _case(self, case_id):
        case = self.store.get("cases", case_id)
        if case is None:
            raise NotFound(f"no rectification case {case_id}")
        return case

    def _settle(self, collection, doc_id):
        doc = self.store.get(collection, doc_id)
        if doc and doc.get("outbox"):
            outbox.settle(self.store.db[collection], doc_id, doc["rev"], doc["outbox"],
                          self._publishers())

    def _publishers(self):
        return {"event": lambda e: self.dispatch(e["event_type"], e["body"])}

    def _calendar(self, version):
        """The catalog's working-day calendar (version None: the current catalog)."""
        if version not in self._calendars:
            self._calendars[version] = WorkingCalendar(self.catalog.get_calendar(version))
        return self._calendars[version]


def _entries(event_type, body):
    return {uuid.uuid4().hex: outbox.entry("event", body, event_type=event_type)}


def _refusing(rule, *args):
    """Run a domain rule; its refusal becomes the matching HTTP error."""
    try:
        return rule(*args)
    except domain.Refused as refused:
        fields = {refused.field: [refused.message]} if refused.field else None
        raise ERRORS[refused.status](refused.message, fields=fields) from None
