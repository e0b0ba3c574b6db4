"""Platform-internal events (nameko events on `<service>.events` exchanges) and their payloads."""
from marshmallow import Schema, fields, INCLUDE

# event types, noun_pastverb
APPLICATION_SUBMITTED = "application_submitted"   # intake
APPLICATION_UPDATED = "application_updated"       # routing: a new snapshot of the workflow
APPLICATION_DECIDED = "application_decided"       # routing: the combined decision


class ApplicationSubmittedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    scenario = fields.String(required=True)
    catalog_version = fields.Integer(required=True)
    applicant = fields.Dict(required=True)
    region = fields.String(required=True)
    channel = fields.String(required=True)
    form = fields.Dict(required=True)
    materials = fields.List(fields.Dict(), required=True)
    optional_items = fields.List(fields.String(), load_default=list)
    submitted_at = fields.String(required=True)


class ApplicationUpdatedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    rev = fields.Integer(required=True)
    status = fields.String(required=True)
    tasks = fields.List(fields.Dict(), required=True)
    decision = fields.Dict(allow_none=True, load_default=None)


class ApplicationDecidedSchema(Schema):
    class Meta:
        unknown = INCLUDE

    application_id = fields.String(required=True)
    scenario = fields.String(required=True)
    applicant = fields.Dict(required=True)
    region = fields.String(required=True)
    channel = fields.String(required=True)
    submitted_at = fields.String(required=True)
    decision = fields.Dict(required=True)
    tasks = fields.List(fields.Dict(), required=True)
