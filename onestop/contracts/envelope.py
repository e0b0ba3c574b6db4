"""The envelope every message on the department boundary travels in (design §4)."""

import uuid
from datetime import datetime, timezone
from functools import cache

from marshmallow import Schema, fields, validate, ValidationError, RAISE

# 1.1: approval_result.decided_by; 1.2: approval_result limits, approval_task.level township,
# fees and payments (docs/asyncapi.yaml)
SCHEMA_VERSION = "1.2"


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE

    message_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    schema_version = fields.String(required=True, validate=validate.Regexp(r"^\d+\.\d+$"))
    time = fields.String(required=True)
    correlation_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    payload = fields.Dict(required=True)


def now_iso():
    return datetime.now(timezone.utc).isoformat()


def make_envelope(message_type, correlation_id, payload, message_id=None, time=None):
    return {
        "message_id": message_id or uuid.uuid4().hex,
        "type": message_type,
        "schema_version": SCHEMA_VERSION,
        "time": time or now_iso(),
        "correlation_id": correlation_id,
        "payload": payload,
    }


@cache
def schema_instance(schema_class):
    """The one instance of a marshmallow schema class (no options) this process loads with.

    Making a schema deep-copies and binds its declared fields, several times the cost of
    the load itself; one per message was a visible share of the services' CPU (issue 16).
    Sharing one is safe: marshmallow's `load` (4.x, pinned in requirements.txt) keeps
    nothing of a call on the instance (errors go to a per-call store; a Nested field makes
    its schema once and keeps it), and the schemas here hold no state of their own
    (docs/adr/0030)."""
    return schema_class()


class InvalidMessage(Exception):
    """A message that can never be processed: it goes to the dead-letter queue with this reason."""


def open_envelope(body, expected_types, payload_schemas):
    """Validate an envelope and its payload; raise InvalidMessage with a readable reason."""
    if not isinstance(body, dict):
        raise InvalidMessage("message body is not a JSON object")
    try:
        envelope = schema_instance(EnvelopeSchema).load(body)
    except ValidationError as exc:
        raise InvalidMessage(f"bad envelope: {exc.messages}") from None
    if envelope["type"] not in expected_types:
        raise InvalidMessage(f"unknown message type {envelope['type']!r}")
    major = envelope["schema_version"].split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise InvalidMessage(f"unsupported schema version {envelope['schema_version']}")
    try:
        payload_schema = schema_instance(payload_schemas[envelope["type"]])
        envelope["payload"] = payload_schema.load(envelope["payload"])
    except ValidationError as exc:
        raise InvalidMessage(f"bad {envelope['type']} payload: {exc.messages}") from None
    return envelope
