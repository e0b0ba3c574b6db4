"""The application body, as the public API accepts it, and the request headers it needs."""

from marshmallow import Schema, fields, validate, validates_schema, ValidationError, RAISE

from onestop.common.http import BadRequest, load, read_json

CHANNELS = ("online", "mobile", "counter")
APPLICANT_KINDS = ("person", "enterprise")
ID_NUMBER = validate.Regexp(
    r"^([0-9]{17}[0-9X]|[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})$",
    error="must be an 18-character resident ID number or unified social credit code",
)


class ApplicantSchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(APPLICANT_KINDS))
    id_number = fields.String(required=True, validate=ID_NUMBER)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class MaterialSchema(Schema):
    """One material: an upload ({code, file_id}) or an e-licence ({code, license_id})."""

    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    file_id = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^[0-9a-f]{32}$", error="must be a file id returned by POST /api/uploads"
        ),
    )
    license_id = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^L[0-9a-f]{31}$", error="must be an e-licence id (see GET /api/licenses?holder=...)"
        ),
    )

    @validates_schema
    def one_source(self, data, **kwargs):
        if data.get("file_id") and data.get("license_id"):
            raise ValidationError("give either file_id or license_id, not both", "license_id")
        if not data.get("file_id") and not data.get("license_id"):
            raise ValidationError(
                "give file_id (an upload) or license_id (an e-licence of "
                "yours); a material your valid e-licence covers may be "
                "left out",
                "file_id",
            )


class ChecklistQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    holder = fields.String(load_default=None, validate=ID_NUMBER)  # a clerk names it


STATUSES = (
    "submitted",
    "accepting",
    "in_review",
    "awaiting_correction",
    "awaiting_payment",
    "approved",
    "rejected",
    "withdrawn",
    "not_accepted",
)


class ApplicationListQuerySchema(Schema):
    """GET /api/applications: one's own applications, newest first, a page at a time."""

    class Meta:
        unknown = RAISE

    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    scenario = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    applicant = fields.String(load_default=None, validate=ID_NUMBER)  # staff filter by holder
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100000))


class CounterSchema(Schema):
    """The service centre (政务服务中心) of a counter application; its region is the clerk's."""

    class Meta:
        unknown = RAISE

    centre_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,32}$", error="1 to 32 letters, digits, _ or -"),
    )
    centre_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    window = fields.String(load_default=None, validate=validate.Length(min=1, max=20))


class ApplicationSchema(Schema):
    class Meta:
        unknown = RAISE

    scenario = fields.String(required=True, validate=validate.Length(min=1, max=64))
    applicant = fields.Nested(ApplicantSchema, required=True)
    region = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9]{6}([0-9]{3})?$",
            error="must be a six-digit GB/T 2260 county code or a nine-digit township code",
        ),
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    form = fields.Dict(required=True)
    materials = fields.List(fields.Nested(MaterialSchema), required=True)
    optional_items = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)
    # the counter channel only: which service centre received it (statistics, the receipt)
    counter = fields.Nested(CounterSchema, load_default=None)


class CorrectionSchema(Schema):
    """Supplementary materials for the tasks that asked for them (one-time notification:
    everything asked for, at once)."""

    class Meta:
        unknown = RAISE

    materials = fields.List(
        fields.Nested(MaterialSchema), required=True, validate=validate.Length(min=1)
    )


class WithdrawalSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(
        load_default="withdrawn by the applicant", validate=validate.Length(min=1, max=500)
    )


def withdrawal_reason(request):
    """The reason given in the optional body of a withdrawal (a default when none)."""
    body = (
        load(WithdrawalSchema(), read_json(request))
        if request.get_data()
        else (WithdrawalSchema().load({}))
    )
    return body["reason"]


def idempotency_key(request):
    """The Idempotency-Key header an application must carry (a retry sends the same)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 128:
        raise BadRequest(
            "an Idempotency-Key header (1 to 128 characters) is required",
            fields={"Idempotency-Key": ["required, at most 128 characters"]},
        )
    return key
