"""What GET /api/statistics accepts (services/feedback/statistics.py)."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.feedback.statistics import CHANNELS

MONTH = validate.Regexp(
    r"^[0-9]{4}-(0[1-9]|1[0-2])$", error="must be a month as YYYY-MM, e.g. 2026-03"
)
CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="must be a department code such as health")
REGION = validate.Regexp(r"^[0-9]{6}$", error="must be a six-digit region code (GB/T 2260)")


class PublishedStatisticsQuerySchema(Schema):
    """month: one month; from/to: a range of months (either end may be left open)."""

    class Meta:
        unknown = RAISE

    month = fields.String(load_default=None, validate=MONTH)
    from_ = fields.String(data_key="from", load_default=None, validate=MONTH)
    to = fields.String(load_default=None, validate=MONTH)
    department = fields.String(load_default=None, validate=CODE)
    region = fields.String(load_default=None, validate=REGION)
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))

    @validates_schema
    def one_way_to_say_months(self, data, **kwargs):
        if data.get("month") and (data.get("from_") or data.get("to")):
            raise ValidationError("give month, or from/to, not both", "month")
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("must not be after to", "from")


def months_of(query):
    """The query with month written as the range from = to = month."""
    query = dict(query)
    month, start = query.pop("month"), query.pop("from_")
    query["from"] = month or start
    query["to"] = month or query["to"]
    return query
