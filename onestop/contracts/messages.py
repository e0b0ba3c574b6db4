"""Payload schemas of the department boundary, version 1.

Additive changes keep the version; a breaking change gets a new major version
and both are served for a transition period (docs/asyncapi.yaml).
"""

import json

from marshmallow import Schema, ValidationError, fields, validate, INCLUDE, EXCLUDE

DECISIONS = ("approved", "rejected", "correction_required")
TASK = "approval_task"
RESULT = "approval_result"
CANCELLATION = "task_cancelled"
PAYMENT = "payment_confirmed"


class ResultData(validate.Validator):
    """The free-form `data` of a result (a department's or an officer's): at most
    `max_bytes` encoded as compact JSON (UTF-8), nested at most `max_depth` objects or
    arrays deep, every key a non-empty string without `$`, a leading `.` or NUL, at any
    depth (what MongoDB stores safely). Checked at the boundary, so a bad result is refused
    alone (dead-lettered with the reason, or a 400 to an officer) and never reaches the
    store, where it would fail the write of every result applied with it."""

    MAX_BYTES = 16 * 1024
    MAX_DEPTH = 8

    def __init__(self, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH):
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    def __call__(self, value):
        problem = self._key_or_depth_problem(value, 1, "data")
        if problem:
            raise ValidationError(problem)
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > self.max_bytes:
            raise ValidationError(
                f"data is {size} bytes encoded; at most {self.max_bytes} bytes are accepted"
            )
        return value

    def _key_or_depth_problem(self, value, depth, path):
        """The first problem of `value` (at nesting `depth`, found at `path`), else None."""
        if isinstance(value, (dict, list)) and depth > self.max_depth:
            return f"{path} is nested deeper than {self.max_depth} levels"
        if isinstance(value, dict):
            for key, item in value.items():
                problem = key_problem(key) or self._key_or_depth_problem(
                    item, depth + 1, f"{path}.{key}"
                )
                if problem:
                    return problem if problem.startswith(path) else f"{path}: {problem}"
        elif isinstance(value, list):
            for index, item in enumerate(value):
                problem = self._key_or_depth_problem(item, depth + 1, f"{path}[{index}]")
                if problem:
                    return problem
        return None


def key_problem(key):
    """Why `key` may not be a key of result data, else None."""
    if not isinstance(key, str) or not key:
        return "keys must be non-empty strings"
    if "$" in key:
        return f"key {key!r} contains '$'"
    if key.startswith("."):
        return f"key {key!r} starts with '.'"
    if "\0" in key:
        return "a key contains NUL"
    return None


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
    # since 1.2: township, a task delegated to a township or street's service centre; the
    # region (and office) is then the township's nine-digit code
    level = fields.String(
        required=True, validate=validate.OneOf(["province", "city", "county", "township"])
    )
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
    # since 1.2: at most 100 materials of at most 64 characters each (an officer's limits)
    materials = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=100),
    )
    # since 1.2: at most 16 KiB encoded, 8 levels deep, MongoDB-safe keys (ResultData)
    data = fields.Dict(load_default=dict, validate=ResultData())
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
