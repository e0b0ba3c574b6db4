"""What the license API accepts."""

from marshmallow import Schema, fields, validate, INCLUDE, RAISE

ID_NUMBER = validate.Regexp(
    r"^([0-9]{17}[0-9X]|[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})$",
    error="must be an 18-character resident ID number or unified social credit code",
)


class WalletQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    holder = fields.String(load_default=None, validate=ID_NUMBER)  # applicants: their own


class LicenseDocumentSchema(Schema):
    """The shape a licence must have before its signature is worth checking.

    Anything else a forger adds is kept (INCLUDE) and simply breaks the signature.
    """

    class Meta:
        unknown = INCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    key_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    signature = fields.String(required=True, validate=validate.Length(min=1, max=200))
    expires_at = fields.String(allow_none=True)


class RevocationSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class NoticeDocumentSchema(Schema):
    """The shape a notice must have before its signature is worth checking (anything else
    is kept and simply breaks the signature)."""

    class Meta:
        unknown = INCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    key_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    signature = fields.String(required=True, validate=validate.Length(min=1, max=200))
