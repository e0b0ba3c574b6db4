"""feedback: reviews of decided applications."""
import uuid

from marshmallow import Schema, fields, validate, ValidationError, RAISE
from prometheus_client import Counter

from onestop.common.clock import Clock
from onestop.common.http import http, read_json, load, ApiError, Conflict
from onestop.common.messaging import event_handler
from onestop.common.service import ServiceBase
from onestop.common.store import Storage
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import (APPLICATION_DECIDED, APPLICATION_SUBMITTED,
                                      ApplicationDecidedSchema, ApplicationSubmittedSchema)
from onestop.feedback import domain
from onestop.feedback.store import FeedbackStore

REVIEWS = Counter("feedback_reviews_total", "Reviews by scenario and level", ["scenario", "level"])


class ReviewSchema(Schema):
    class Meta:
        unknown = RAISE

    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                       load_default=list, validate=validate.Length(max=10))


class FeedbackService(ServiceBase):
    name = "feedback"

    store = Storage(FeedbackStore, "feedback")
    now = Clock()

    @event_handler("intake", APPLICATION_SUBMITTED)
    def handle_application_submitted(self, payload):
        submitted = _load(ApplicationSubmittedSchema, payload, APPLICATION_SUBMITTED)
        self.store.note_submitted(submitted["application_id"],
                                  submitted["applicant"]["id_number"], submitted["scenario"],
                                  self.now())

    @event_handler("routing", APPLICATION_DECIDED)
    def handle_application_decided(self, payload):
        self.store.note_decided(_load(ApplicationDecidedSchema, payload, APPLICATION_DECIDED),
                                self.now())

    @http("POST", "/api/applications/<string:application_id>/reviews")
    def review(self, request, application_id):
        body = load(ReviewSchema(), read_json(request))
        application = self.store.application(application_id)
        try:
            domain.check_reviewable(application, self.store.review_of(application_id))
        except domain.ReviewRefused as refused:
            error = ApiError(refused.message)
            error.status = refused.status
            error.code = "not_found" if refused.status == 404 else "conflict"
            raise error from None
        review = {"_id": uuid.uuid4().hex, "application_id": application_id,
                  "scenario": application["scenario"], "score": body["score"],
                  "level": domain.LEVELS[body["score"]], "comment": body["comment"],
                  "tags": body["tags"], "bad": domain.is_bad(body["score"]),
                  "created_at": self.now().isoformat()}
        if not self.store.add_review(review):
            raise Conflict("this application has already been reviewed")
        REVIEWS.labels(application["scenario"], review["level"]).inc()
        review["id"] = review.pop("_id")
        return 201, review


def _load(schema, payload, event_type):
    try:
        return schema().load(payload)
    except ValidationError as exc:
        raise InvalidMessage(f"bad {event_type}: {exc.messages}") from None
