"""feedback: good/bad reviews of decided applications; rectification cases of bad ones;
statistics over HTTP and as Prometheus metrics. Entrypoints parse the request, then read or
call one step (steps.py: read -> domain.py rule -> store-and-publish); metrics in metrics.py."""

from nameko.timer import timer

from onestop.common.auth import acting_applicant, may_read_application
from onestop.common.catalog_client import CatalogProxy
from onestop.common.clock import Clock
from onestop.common.collectors import StoreGauges
from onestop.common.errors import Invalid, Unknown
from onestop.common.http import http, load, load_query, read_json
from onestop.common.messaging import event_handler
from onestop.common.mongo import Storage
from onestop.common.outbox import Outbox
from onestop.common.service import ServiceBase
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import (
    APPLICATION_DECIDED,
    APPLICATION_SUBMITTED,
    RECTIFICATION_CLOSED,
    RECTIFICATION_OPENED,
    REVIEW_SUBMITTED,
    ApplicationDecidedSchema,
    ApplicationSubmittedSchema,
    RectificationEventSchema,
    ReviewSubmittedSchema,
    load_event,
)
from services.feedback import domain, statistics, statistics_metrics, tallies
from services.feedback.limits import ReviewLimits
from services.feedback.metrics import store_gauges
from services.feedback.schemas import (
    CaseQuerySchema,
    ConfirmationSchema,
    DisputeSchema,
    FollowUpSchema,
    RectificationSchema,
    ReviewSchema,
    StatsQuerySchema,
    VisitSchema,
)
from services.feedback.statistics_schemas import PublishedStatisticsQuerySchema, months_of
from services.feedback.statistics_store import StatisticsStore
from services.feedback.steps import Steps
from services.feedback.store import FeedbackStore


class PublishedStorage(Storage):
    """The published statistics' store, on feedback's database beside `store`; the Outbox
    writes through `store` alone (it takes the Storage that `provides_store`)."""

    provides_store = False


class FeedbackService(ServiceBase):
    name = "feedback"

    store = Storage(FeedbackStore, "feedback")
    published = PublishedStorage(StatisticsStore, "feedback")  # statistics.py
    outbox = Outbox("reviews", "cases")  # notifications: confirmed, not mandatory
    gauges = StoreGauges(FeedbackStore, "feedback", store_gauges)
    catalog = CatalogProxy()
    limits = ReviewLimits()
    now = Clock()

    # -- events in -------------------------------------------------------------------
    # One handler per event does both the reviews' bookkeeping and the published
    # statistics (one delivery instead of two; docs/adr/0028). Both halves are idempotent,
    # so a retry after a failure in the second redoes the first harmlessly.
    @event_handler("intake", APPLICATION_SUBMITTED)
    def handle_application_submitted(self, payload):
        submitted = load_event(ApplicationSubmittedSchema, payload, APPLICATION_SUBMITTED)
        self.store.note_submitted(
            submitted["application_id"],
            submitted["applicant"]["id_number"],
            submitted["scenario"],
            self.now(),
        )
        self._count_submitted(submitted)

    @event_handler("routing", APPLICATION_DECIDED)
    def handle_application_decided(self, payload):
        decided = load_event(ApplicationDecidedSchema, payload, APPLICATION_DECIDED)
        steps = self._steps()
        try:
            facts = statistics.decided_facts(
                decided, steps.calendar(decided.get("catalog_version"))
            )
        except (KeyError, TypeError, ValueError) as exc:  # before anything is written
            raise InvalidMessage(f"bad {APPLICATION_DECIDED}: {exc!r}") from None
        steps.note_decided(decided)
        doc = self.published.note_facts(decided["application_id"], "decided", facts)
        self._refresh(decided["application_id"], doc)

    # -- reviews ---------------------------------------------------------------------
    @http("POST", "/api/applications/<string:application_id>/reviews")
    def review(self, request, application_id):
        body = self._as_applicant(request, ReviewSchema())
        return 201, domain.review_view(self._steps().review(application_id, body))

    @http("GET", "/api/applications/<string:application_id>/reviews")
    def reviews_of(self, request, application_id):
        principal = self.auth.require(request)
        application = self.store.application(application_id)
        if application is None or not (
            may_read_application(
                principal, application.get("applicant_id"), region=application.get("region")
            )
            or domain.officer_of(principal, application)
        ):
            raise Unknown("no decided application with this id is known to reviews")
        return {
            "application_id": application_id,
            "reviews": [domain.review_view(r) for r in self.store.reviews_of(application_id)],
        }

    @http("POST", "/api/reviews/<string:review_id>/follow-up")
    def follow_up(self, request, review_id):
        body = self._as_applicant(request, FollowUpSchema())
        return 201, domain.review_view(self._steps().follow_up(review_id, body))

    @http("GET", "/api/reviews/stats")
    def statistics(self, request):
        principal = self.auth.require(request, "supervisor", "operator")
        query = load_query(StatsQuerySchema(), request)
        region = domain.staff_region(principal)  # a supervisor's region: only its data
        now = self.now()
        # tallies kept as things change (docs/adr/0016): bounded, whatever the data
        found = self.store.review_tallies(now, region, query["by"])
        return tallies.report(found, query["by"], query["key"], now)

    # -- rectification cases -----------------------------------------------------------
    @http("GET", "/api/rectifications")
    def list_cases(self, request):
        principal = self.auth.require(request, "officer", "supervisor", "operator")
        query = domain.cases_visible_to(principal, load_query(CaseQuerySchema(), request))
        cases = self.store.list_cases(
            query["department"],
            query["state"],
            query["limit"],
            query["region"],
            query["office_region"],
        )
        return {"cases": domain.case_list(cases, query["overdue"], self.now())}

    @http("GET", "/api/rectifications/<string:case_id>")
    def show_case(self, request, case_id):
        principal = self.auth.require(request)
        case = self.store.get("cases", case_id)
        if case is None or not domain.may_see_case(principal, case):
            raise Unknown(f"no rectification case {case_id}")
        return domain.case_view(case, self.now())

    @http("POST", "/api/rectifications/<string:case_id>/visit")
    def record_visit(self, request, case_id):
        body = self._as_department(request, VisitSchema())
        return self._steps().record_visit(case_id, body)

    @http("POST", "/api/rectifications/<string:case_id>/rectify")
    def record_rectification(self, request, case_id):
        body = self._as_department(request, RectificationSchema())
        return self._steps().record_rectification(case_id, body)

    @http("POST", "/api/rectifications/<string:case_id>/confirm")
    def confirm(self, request, case_id):
        return self._steps().confirm(case_id, self._as_applicant(request, ConfirmationSchema()))

    @http("POST", "/api/rectifications/<string:case_id>/dispute")
    def dispute(self, request, case_id):
        return self._steps().dispute(case_id, self._as_applicant(request, DisputeSchema()))

    # -- supervision (the Outbox re-sends unsent events itself) --------------------------
    @timer(interval=2)
    def sweep(self):
        self._steps().supervise()

    # -- published statistics (statistics.py: incremental, idempotent per event) ------------
    @http("GET", "/api/statistics")
    def published_statistics(self, request):
        """Public, no token: figures only, never personal data."""
        query = months_of(load_query(PublishedStatisticsQuerySchema(), request))
        self._check_known(query)
        buckets = self.published.buckets(
            query["department"] or statistics.ALL, query["from"], query["to"]
        )
        return statistics.report(buckets, query)

    def _count_submitted(self, submitted):
        plan = self.catalog.plan(
            submitted["scenario"],
            submitted["region"],
            submitted["optional_items"],
            submitted["catalog_version"],
        )
        facts = statistics.submitted_facts(submitted, None if "error" in plan else plan)
        counted = statistics.count_first(
            self.published, submitted["application_id"], "submitted", facts
        )
        statistics_metrics.count(counted)

    @event_handler("feedback", REVIEW_SUBMITTED)
    def count_review(self, payload):
        self._refresh_engaged(
            load_event(ReviewSubmittedSchema, payload, REVIEW_SUBMITTED)["application_id"]
        )

    @event_handler("feedback", RECTIFICATION_OPENED)
    def count_rectification_opened(self, payload):
        body = load_event(RectificationEventSchema, payload, RECTIFICATION_OPENED)
        self._refresh_engaged(body["application_id"])

    @event_handler("feedback", RECTIFICATION_CLOSED)
    def count_rectification_closed(self, payload):
        body = load_event(RectificationEventSchema, payload, RECTIFICATION_CLOSED)
        self._refresh_engaged(body["application_id"])

    def _refresh(self, application_id, doc=None):
        """doc: the facts as note_facts wrote them (saves the first read)."""
        statistics_metrics.count(statistics.refresh(self.published, application_id, doc=doc))

    def _refresh_engaged(self, application_id):
        """A review or case changed: the facts are marked (reviews and cases are read from
        now on, by every refresh), then refreshed."""
        self.published.note_engaged(application_id)
        self._refresh(application_id)

    def _check_known(self, query):
        unknown = {}
        department = query["department"]
        if department and department != statistics.SERVICE_CENTER:
            if self.catalog.get_department(department) is None:
                unknown["department"] = ["no such department; see GET /api/departments"]
        if query["region"] and self.catalog.get_region(query["region"]) is None:
            unknown["region"] = ["no such region; see GET /api/regions"]
        if unknown:
            raise Invalid("unknown filter values", fields=unknown)

    # -- who acts, and the steps ---------------------------------------------------------
    def _as_applicant(self, request, schema):
        """An applicant acts for themselves (their token). Nobody acts in their name: a
        counter clerk is refused (403) by acting_applicant."""
        principal = self.auth.require(request, "applicant", "clerk")
        acting_applicant(principal)  # a clerk: 403 before the body is read
        body = load(schema, read_json(request))
        return dict(body, applicant_id=acting_applicant(principal, body["applicant_id"]))

    def _as_department(self, request, schema):
        """A department's officer records its own case steps (an operator names them)."""
        principal = self.auth.require(request, "officer", "operator")
        return domain.acting_department(principal, load(schema, read_json(request)))

    def _steps(self):
        return Steps(self.store, self.outbox, self.limits, self.catalog, self.now)
