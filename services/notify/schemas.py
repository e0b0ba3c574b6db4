"""What the notify API accepts."""

from marshmallow import RAISE, Schema, fields, validate

from services.notify.domain import DELIVERY_CHANNELS

MOBILE = validate.Regexp(r"^1[3-9][0-9]{9}$", error="must be an 11-digit mainland mobile number")


class InboxQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100000))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    unread = fields.Boolean(load_default=False)


class PreferencesSchema(Schema):
    """The delivery channels a person chooses (the inbox is always on) and their addresses."""

    class Meta:
        unknown = RAISE

    channels = fields.List(
        fields.String(
            validate=validate.OneOf(
                DELIVERY_CHANNELS, error="unknown channel; one of: " + ", ".join(DELIVERY_CHANNELS)
            )
        ),
        required=True,
        validate=validate.Length(max=len(DELIVERY_CHANNELS)),
    )
    phone = fields.String(load_default=None, allow_none=True, validate=MOBILE)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
