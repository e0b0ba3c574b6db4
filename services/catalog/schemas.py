"""Query parameters of the catalog's HTTP API (marshmallow): bad input is a 400 per field."""

from datetime import date, datetime, time

from marshmallow import Schema, ValidationError, fields, validate, RAISE

from onestop.common.working_days import CHINA
from services.catalog.domain import AUDIENCES, LEVELS
from services.catalog.search import MAX_QUERY_CHARS

CODE = validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$", error="letters, digits, _ . - only")


class VersionQuery(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(strict=False, validate=validate.Range(min=1))


class ItemQuery(VersionQuery):
    q = fields.String(validate=validate.Length(min=1, max=100))
    department = fields.String(validate=CODE)
    level = fields.String(validate=validate.OneOf(LEVELS))
    audience = fields.String(validate=validate.OneOf(AUDIENCES))
    scenario = fields.String(validate=CODE)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class ScenarioQuery(VersionQuery):
    q = fields.String(validate=validate.Length(min=1, max=100))
    audience = fields.String(validate=validate.OneOf(AUDIENCES))
    department = fields.String(validate=CODE)
    level = fields.String(validate=validate.OneOf(LEVELS))


def _not_blank(text):
    if not text.strip():
        raise ValidationError("请输入要办的事，例如“生孩子”“开公司” (q is blank)")


class SearchQuery(VersionQuery):
    """GET /api/search: the person's own words, and a bounded page of the ranked answer."""

    q = fields.String(
        required=True,
        validate=[
            validate.Length(
                max=MAX_QUERY_CHARS,
                error=f"最多{MAX_QUERY_CHARS}个字，请说得简短些 (at most {{max}} characters)",
            ),
            _not_blank,
        ],
        error_messages={"required": "请输入要办的事，例如“生孩子”“开公司” (q is required)"},
    )
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=26))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100))


class StartField(fields.Field):
    """An ISO date (the day of receipt, 09:00 China time) or an ISO datetime (China time
    when it has no offset)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value)
        try:
            if len(text) == 10:
                moment = datetime.combine(date.fromisoformat(text), time(9, 0), tzinfo=CHINA)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                "an ISO 8601 date or date-time, e.g. 2026-12-01 or 2026-12-01T09:30:00+08:00"
            ) from None
        if not 2000 <= moment.year <= 2100:
            raise ValidationError("a date between the years 2000 and 2100")
        return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


class OptionalItemsField(fields.Field):
    """A comma-separated list of item codes."""

    def _deserialize(self, value, attr, data, **kwargs):
        codes = [code.strip() for code in str(value).split(",") if code.strip()]
        if len(codes) > 100 or any(len(code) > 64 for code in codes):
            raise ValidationError("at most 100 item codes, separated by commas")
        return codes


APPLICANT_REGION = validate.Regexp(
    r"^[0-9]{6}([0-9]{3})?$",
    error="a county-level GB/T 2260 code (six digits) or a township's (nine digits)",
)


class PlanQuery(VersionQuery):
    region = fields.String(required=True, validate=APPLICANT_REGION)
    optional = OptionalItemsField(load_default=list)
    start = StartField()


class GuideQuery(VersionQuery):
    """GET /api/scenarios/<code>/guide: where to apply is resolved when a region is given."""

    region = fields.String(validate=APPLICANT_REGION)
    optional = OptionalItemsField(load_default=list)


def version_number(text):
    """A version path segment as a number, or a ValidationError."""
    if not (str(text).isascii() and str(text).isdigit()) or int(text) < 1:
        raise ValidationError("a catalog version number (1, 2, ...)")
    return int(text)


class VersionNumber(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        return version_number(value)


class DiffPath(Schema):
    """The two versions of GET /api/catalog/versions/<from>/diff/<to>."""

    old = VersionNumber(data_key="from", required=True)
    new = VersionNumber(data_key="to", required=True)
