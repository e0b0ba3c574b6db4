"""Platform-internal events (nameko events on `<service>.events` exchanges) and their payloads."""

from marshmallow import Schema, fields, INCLUDE, ValidationError

from onestop.contracts.envelope import InvalidMessage, schema_instance

# event types, noun_pastverb
APPLICATION_SUBMITTED = "application_submitted"  # intake
APPLICATION_UPDATED = "application_updated"  # routing: a new snapshot of the workflow
APPLICATION_DECIDED = "application_decided"  # routing: the combined decision
APPLICATION_CORRECTED = "application_corrected"  # intake: supplementary materials supplied
APPLICATION_WITHDRAWN = "application_withdrawn"  # intake: the applicant withdrew
# routing: a department asked the applicant to correct (补正) a task's materials
CORRECTION_REQUESTED = "correction_requested"
TASK_DUE_SOON = "task_due_soon"  # routing: a task nears its promised date
TASK_OVERDUE = "task_overdue"  # routing: a task passed its promised date
TASK_ESCALATED = "task_escalated"  # routing: a task passed its legal limit
# notify: a notification stored for a delivery channel, to be delivered (its own consumer)
NOTIFICATION_QUEUED = "notification_queued"
NOTICE_ISSUED = "notice_issued"  # routing: a formal notice (受理 / 不予受理 / 不予许可), to sign
ACCEPTANCE_OVERDUE = "acceptance_overdue"  # routing: the hall did not accept in time


class ApplicantSchema(Schema):
    """Who applies; consumers read these three (license puts them on the licence)."""

    class Meta:
        unknown = INCLUDE

    kind = fields.String(required=True)
    id_number = fields.String(required=True)
    name = fields.String(required=True)


class MaterialSchema(Schema):
    """A supplied material: its code, and where it is (file_id or license_id)."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True)


class ApplicationSubmittedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    scenario = fields.String(required=True)
    catalog_version = fields.Integer(required=True)
    applicant = fields.Nested(ApplicantSchema, required=True)
    region = fields.String(required=True)
    channel = fields.String(required=True)
    form = fields.Dict(required=True)
    materials = fields.List(fields.Nested(MaterialSchema), required=True)
    optional_items = fields.List(fields.String(), load_default=list)
    submitted_at = fields.String(required=True)
    # who submitted it: {"role", "sub"} (a counter clerk for an applicant); routing keeps it
    submitted_by = fields.Dict(allow_none=True, load_default=None)
    # a counter application's counter: {region, centre_code, centre_name, window, clerk}
    counter = fields.Dict(allow_none=True, load_default=None)


class ApplicationUpdatedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    rev = fields.Integer(required=True)
    status = fields.String(required=True)
    tasks = fields.List(fields.Dict(), required=True)
    decision = fields.Dict(allow_none=True, load_default=None)


class ApplicationCorrectedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    correction_id = fields.String(required=True)
    task_ids = fields.List(fields.String(), load_default=list)
    materials = fields.List(fields.Nested(MaterialSchema), required=True)
    corrected_at = fields.String(required=True)


class ApplicationWithdrawnSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    reason = fields.String(load_default="withdrawn by the applicant")
    withdrawn_at = fields.String(required=True)


class DecisionSchema(Schema):
    """The combined decision: outcome approved, rejected or withdrawn, and when."""

    class Meta:
        unknown = INCLUDE

    outcome = fields.String(required=True)
    decided_at = fields.String(required=True)
    departments = fields.List(fields.Dict(), load_default=list)


class DecidedTaskSchema(Schema):
    """One task of a decided application, as license and feedback read it."""

    class Meta:
        unknown = INCLUDE

    task_id = fields.String(required=True)
    item_code = fields.String(required=True)
    item_name = fields.String(load_default="")
    department = fields.String(required=True)
    region = fields.String(required=True)
    state = fields.String(required=True)
    license_type = fields.String(allow_none=True, load_default=None)
    data = fields.Dict(allow_none=True, load_default=dict)
    # the task's promised date (its clock stopped during corrections; None: never sent) and
    # when it was decided or cancelled; absent only in events older than these fields
    due = fields.String(allow_none=True, load_default=None)
    decided_at = fields.String(allow_none=True, load_default=None)


class ApplicationDecidedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    scenario = fields.String(required=True)
    # the version the application was planned under (license asks it for licence types,
    # feedback for the calendar); absent only in events older than this field
    catalog_version = fields.Integer(allow_none=True, load_default=None)
    applicant = fields.Nested(ApplicantSchema, required=True)
    region = fields.String(required=True)
    channel = fields.String(required=True)
    submitted_at = fields.String(required=True)
    decision = fields.Nested(DecisionSchema, required=True)
    tasks = fields.List(fields.Nested(DecidedTaskSchema), required=True)


class CorrectionRequestedSchema(Schema):
    """correction_requested: which task of which application waits for the applicant's
    correction, of what, and why (routing's correction_event; notify tells the applicant,
    who is known from the application's submission)."""

    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    task_id = fields.String(required=True)
    item_code = fields.String(required=True)
    item_name = fields.String(required=True)
    department = fields.String(required=True)
    reason = fields.String(required=True)
    requested_materials = fields.List(fields.String(), required=True)
    corrections = fields.Integer(required=True)  # rounds of correction made before this one
    requested_at = fields.String(required=True)


class TaskSupervisionSchema(Schema):
    """task_due_soon and task_overdue (limit: the promised date), task_escalated (limit: the
    legal one): routing's supervision_event; notify tells the office."""

    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    task_id = fields.String(required=True)
    scenario = fields.String(required=True)
    item_code = fields.String(required=True)
    department = fields.String(required=True)
    office = fields.String(required=True)
    region = fields.String(required=True)
    limit = fields.String(required=True)
    sent_at = fields.String(allow_none=True, load_default=None)


class NotificationQueuedSchema(Schema):
    """notify's own delivery message: which stored notification to deliver."""

    class Meta:
        unknown = INCLUDE

    notification_id = fields.String(required=True)


class NoticeIssuedSchema(Schema):
    """A formal notice to the applicant, as routing issues it; license signs and serves it."""

    class Meta:
        unknown = INCLUDE

    notice_id = fields.String(required=True)
    kind = fields.String(required=True)
    title_zh = fields.String(required=True)
    application_id = fields.String(required=True)
    scenario = fields.String(required=True)
    applicant = fields.Nested(ApplicantSchema, required=True)
    submitted_by = fields.Dict(allow_none=True, load_default=None)
    region = fields.String(required=True)
    issued_at = fields.String(required=True)
    issued_by = fields.String(required=True)
    reasons = fields.List(fields.String(), load_default=list)
    appeal = fields.Dict(load_default=None, allow_none=True)


# license: e-licence life cycle
LICENSE_ISSUED = "license_issued"
LICENSE_REVOKED = "license_revoked"
LICENSE_EXPIRED = "license_expired"
# feedback: reviews and the rectification of bad ones
REVIEW_SUBMITTED = "review_submitted"
RECTIFICATION_OPENED = "rectification_opened"
RECTIFICATION_OVERDUE = "rectification_overdue"
RECTIFICATION_CLOSED = "rectification_closed"


class LicenseEventSchema(Schema):
    """license_issued, license_revoked, license_expired: which licence, whose, and why."""

    class Meta:
        unknown = INCLUDE

    license_id = fields.String(required=True)
    license_type = fields.String(required=True)
    holder_id_number = fields.String(required=True)
    application_id = fields.String(required=True)
    at = fields.String(required=True)
    reason = fields.String(load_default="")


class ReviewSubmittedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    review_id = fields.String(required=True)
    application_id = fields.String(required=True)
    scenario = fields.String(required=True)
    department = fields.String(allow_none=True, load_default=None)
    level = fields.String(required=True)
    follow_up = fields.Boolean(load_default=False)
    at = fields.String(required=True)


class RectificationEventSchema(Schema):
    """rectification_opened, rectification_overdue (deadline: return_visit or rectification),
    rectification_closed."""

    class Meta:
        unknown = INCLUDE

    case_id = fields.String(required=True)
    application_id = fields.String(required=True)
    department = fields.String(required=True)
    region = fields.String(required=True)
    state = fields.String(required=True)
    deadline = fields.String(load_default=None, allow_none=True)
    due = fields.String(load_default=None, allow_none=True)
    at = fields.String(required=True)


def load_event(schema, payload, event_type):
    """An event payload checked by its schema; InvalidMessage (dead-lettered with the
    reason) when it does not fit."""
    try:
        return schema_instance(schema).load(payload)
    except ValidationError as exc:
        raise InvalidMessage(f"bad {event_type}: {exc.messages}") from None
