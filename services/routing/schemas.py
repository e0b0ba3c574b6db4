"""What routing accepts over HTTP (marshmallow); its messages' schemas are in onestop.contracts."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from onestop.contracts import messages as contract


class OfficerDecisionSchema(Schema):
    """What an officer sends: the decision, and what it needs (a reason, the materials)."""

    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(contract.DECISIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    materials = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=100),
    )
    data = fields.Dict(load_default=dict, validate=contract.ResultData())  # as a department's

    @validates_schema
    def check_decision_needs(self, data, **kwargs):
        if data["decision"] in ("rejected", "correction_required") and not data["reason"].strip():
            raise ValidationError(f"a {data['decision']} decision needs a reason", "reason")
        if data["decision"] == "correction_required" and not data["materials"]:
            raise ValidationError(
                "list every material to supplement (one-time notification)", "materials"
            )


class AcceptanceDecisionSchema(Schema):
    """What a hall clerk sends: accept (受理), or refuse to accept (不予受理) with reasons."""

    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(["accept", "refuse"]))
    reasons = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        load_default=list,
        validate=validate.Length(max=20),
    )

    @validates_schema
    def check_reasons(self, data, **kwargs):
        if data["decision"] == "refuse" and not [r for r in data["reasons"] if r.strip()]:
            raise ValidationError(
                "a refusal to accept states its reasons (不予受理须说明理由)", "reasons"
            )


class OfficerPaymentSchema(Schema):
    """A department's cashier confirms the fee of a task awaiting payment was paid."""

    class Meta:
        unknown = RAISE

    amount = fields.Float(required=True, validate=validate.Range(min=0))
    receipt_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
