"""Payload schemas of the department boundary, version 1.

Additive changes keep the version; a breaking change gets a new major version
and both are served for a transition period (docs/asyncapi.yaml).
"""

from marshmallow import Schema, fields, validate, INCLUDE, EXCLUDE

DECISIONS = ("approved", "rejected", "correction_required")
TASK = "approval_task"
RESULT = "approval_result"
CANCELLATION = "task_cancelled"
PAYMENT = "payment_confirmed"


class ApplicantSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(["person", "enterprise"]))
    id_number = fields.String(required=True)
    name = fields.String(required=True)


class MaterialRefSchema(Schema):
    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True)
    file_id = fields.String(load_default=None, allow_none=True)
    license_id = fields.String(load_default=None, allow_none=True)


class ApprovalTaskSchema(Schema):
    """What a department receives: one item of one application."""

    class Meta:
        unknown = INCLUDE

    task_id = fields.String(required=True)
    application_id = fields.String(required=True)
    scenario = fields.String(required=True)
    item_code = fields.String(required=True)
    item_name = fields.String(required=True)
    department = fields.String(required=True)
    office = fields.String(required=True)
    region = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(["province", "city", "county"]))
    applicant = fields.Nested(ApplicantSchema, required=True)
    form = fields.Dict(required=True)
    materials = fields.List(fields.Nested(MaterialRefSchema), required=True)
    inputs = fields.Dict(load_default=dict)
    due = fields.String(load_default=None, allow_none=True)
    # the item's standard list of materials: a correction may ask only among these (a
    # request naming another is dead-lettered, reason extra_material)
    item_materials = fields.List(fields.String(), load_default=list)
    # since 1.2: the item's fee in CNY (0: free); a task with a fee is decided only once its
    # payment is confirmed (approval_result.payment, or a payment_confirmed message)
    fee = fields.Float(load_default=0)


class PaymentSchema(Schema):
    """The applicant's payment of a task's fee, as the department's cashier confirms it."""

    class Meta:
        unknown = EXCLUDE

    amount = fields.Float(required=True, validate=validate.Range(min=0))
    receipt_number = fields.String(required=True, validate=validate.Length(min=1, max=64))


class ApprovalResultSchema(Schema):
    """What a department answers for one task."""

    class Meta:
        unknown = EXCLUDE

    task_id = fields.String(required=True, validate=validate.Length(min=1))
    application_id = fields.String(required=True, validate=validate.Length(min=1))
    department = fields.String(required=True, validate=validate.Length(min=1))
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    materials = fields.List(fields.String(), load_default=list)
    data = fields.Dict(load_default=dict)
    # since 1.1: who decided at the department, as the department names them (the officer
    # API fills in the officer's account); kept in the application's audit trail
    decided_by = fields.String(load_default="", validate=validate.Length(max=200))
    # since 1.2: with an approval of a task with a fee, the payment already received (else
    # the task waits for a payment_confirmed message)
    payment = fields.Nested(PaymentSchema, load_default=None, allow_none=True)


class PaymentConfirmedSchema(Schema):
    """A department (or the payment service acting as it) confirms a task's fee was paid."""

    class Meta:
        unknown = EXCLUDE

    task_id = fields.String(required=True, validate=validate.Length(min=1))
    application_id = fields.String(required=True, validate=validate.Length(min=1))
    department = fields.String(required=True, validate=validate.Length(min=1))
    amount = fields.Float(required=True, validate=validate.Range(min=0))
    receipt_number = fields.String(required=True, validate=validate.Length(min=1, max=64))


class TaskCancelledSchema(Schema):
    class Meta:
        unknown = INCLUDE

    task_id = fields.String(required=True)
    application_id = fields.String(required=True)
    department = fields.String(required=True)
    reason = fields.String(required=True)


PAYLOAD_SCHEMAS = {
    TASK: ApprovalTaskSchema,
    RESULT: ApprovalResultSchema,
    CANCELLATION: TaskCancelledSchema,
    PAYMENT: PaymentConfirmedSchema,
}
