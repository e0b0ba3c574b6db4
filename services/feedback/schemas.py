"""What the feedback API accepts."""

from marshmallow import Schema, fields, validate, validates_schema, ValidationError, RAISE

from services.feedback.domain import (
    BAD_LEVELS,
    CASE_STATES,
    CHANNELS,
    DIMENSIONS,
    LEVELS,
    VISIT_METHODS,
)

# Identity is the applicant's ID number until authentication arrives (a separate issue);
# keep it in one place so a token-derived identity can replace it.
APPLICANT_ID = validate.Regexp(
    r"^([0-9]{17}[0-9X]|[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})$",
    error="must be the applicant's 18-character ID number or unified social credit code",
)
CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="must be a code such as health")
TEXT = validate.Length(min=1, max=1000)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class FollowUpSchema(_Strict):
    """A follow-up review: the same as a review, for the review it follows."""

    # from the applicant's bearer token (given, it must be theirs); nobody acts for them
    applicant_id = fields.String(load_default=None, validate=APPLICANT_ID)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    comment = fields.String(load_default="", validate=validate.Length(max=1000))
    tags = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        load_default=list,
        validate=validate.Length(max=10),
    )

    @validates_schema
    def bad_review_says_why(self, data, **kwargs):
        if data.get("level") in BAD_LEVELS and not data.get("comment") and not data.get("tags"):
            raise ValidationError(
                "a bad review needs a comment or tags saying what went "
                "wrong, so it can be rectified",
                "comment",
            )


class ReviewSchema(FollowUpSchema):
    """A review of the application as a whole (no department) or of one department."""

    department = fields.String(load_default=None, validate=CODE)


class VisitSchema(_Strict):
    # from the officer's bearer token when not given (and must match it when given)
    department = fields.String(load_default=None, validate=CODE)
    officer = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    method = fields.String(required=True, validate=validate.OneOf(VISIT_METHODS))
    note = fields.String(required=True, validate=TEXT)


class RectificationSchema(_Strict):
    # from the officer's bearer token when not given (and must match it when given)
    department = fields.String(load_default=None, validate=CODE)
    officer = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    measures = fields.String(required=True, validate=TEXT)


class ConfirmationSchema(_Strict):
    # from the applicant's bearer token (given, it must be theirs); nobody acts for them
    applicant_id = fields.String(load_default=None, validate=APPLICANT_ID)
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class DisputeSchema(_Strict):
    # from the applicant's bearer token (given, it must be theirs); nobody acts for them
    applicant_id = fields.String(load_default=None, validate=APPLICANT_ID)
    reason = fields.String(required=True, validate=TEXT)


class CaseQuerySchema(_Strict):
    department = fields.String(load_default=None, validate=CODE)
    state = fields.String(load_default=None, validate=validate.OneOf(CASE_STATES + ("open",)))
    overdue = fields.Boolean(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class StatsQuerySchema(_Strict):
    by = fields.String(load_default="department", validate=validate.OneOf(DIMENSIONS))
    key = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
