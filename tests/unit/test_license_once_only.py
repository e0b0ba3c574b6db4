"""Once-only in intake, without services: a fake license service stands in for the RPC."""

import pytest
from marshmallow import ValidationError

from services.intake import once_only
from services.intake.domain import check_materials, required_materials, validate_application
from services.intake.schemas import ApplicationSchema

HOLDER = "91430100MA4L0XXX1Y"
FILE = "a" * 32
SCENARIO = {
    "code": "enterprise_tax_payment",
    "catalog_version": 3,
    "applicant_kinds": ["enterprise"],
    "items": [{"code": "HN-SW-0002", "optional": False}],
    "form_fields": [],
    "checklist": [
        {"code": "legal_rep_id_card", "name": "ID card", "items": ["HN-SW-0002"]},
        {
            "code": "business_license",
            "name": "Business licence",
            "license_type": "business_license",
            "items": ["HN-SW-0002"],
        },
    ],
}
VIEW = {
    "license_id": "L" + "b" * 31,
    "license_type": "business_license",
    "number": "N1",
    "holder_name": "Xiang Tea Ltd",
    "type_name": "Business Licence",
    "issuer": {"department": "market_regulation", "region": "430100"},
    "issued_at": "2026-03-01T00:00:00+00:00",
    "expires_at": None,
}


class FakeLicenseService:
    def __init__(self, held=None, answers=None):
        self.held, self.answers, self.calls = held or {}, answers or {}, []

    def find_reusable(self, holder, license_types):
        self.calls.append(("find_reusable", holder, tuple(license_types)))
        return {t: v for t, v in self.held.items() if t in license_types}

    def check_license(self, license_id, holder, license_type):
        self.calls.append(("check_license", license_id, holder, license_type))
        return self.answers[license_id]


def body(materials):
    return ApplicationSchema().load(
        {
            "scenario": SCENARIO["code"],
            "region": "430102",
            "channel": "online",
            "form": {},
            "applicant": {"kind": "enterprise", "id_number": HOLDER, "name": "Xiang Tea Ltd"},
            "materials": materials,
        }
    )


def resolved(materials, service):
    application = body(materials)
    needed = required_materials(SCENARIO, [])
    return application, needed, once_only.resolve(application, SCENARIO, needed, service)


def test_a_covered_material_left_out_is_filled_from_the_holders_license():
    service = FakeLicenseService(held={"business_license": VIEW})
    application, needed, licenses = resolved(
        [{"code": "legal_rep_id_card", "file_id": FILE}], service
    )
    assert check_materials(application, SCENARIO, {FILE}, licenses) == {}
    recorded = once_only.materials_of(application, SCENARIO, needed, licenses)
    assert recorded == [
        {"code": "legal_rep_id_card", "file_id": FILE},
        {
            "code": "business_license",
            "license_id": VIEW["license_id"],
            "source": "e_license",
            "filled": "held",
            "license": VIEW,
        },
    ]
    assert service.calls == [("find_reusable", HOLDER, ("business_license",))]


def test_without_a_license_the_material_is_missing_with_a_hint_to_upload():
    application, _, licenses = resolved(
        [{"code": "legal_rep_id_card", "file_id": FILE}], FakeLicenseService()
    )
    errors = check_materials(application, SCENARIO, {FILE}, licenses)
    assert errors["missing"] == [
        "required material business_license is missing: you hold no "
        "valid business_license e-licence that covers it, so upload "
        "a copy"
    ]


def test_a_refused_license_is_reported_on_its_material():
    license_id = "L" + "c" * 31
    service = FakeLicenseService(answers={license_id: {"error": "e-licence x was revoked"}})
    application, _, licenses = resolved(
        [
            {"code": "legal_rep_id_card", "file_id": FILE},
            {"code": "business_license", "license_id": license_id},
        ],
        service,
    )
    errors = check_materials(application, SCENARIO, {FILE}, licenses)
    assert errors == {"1": {"license_id": ["e-licence x was revoked"]}}


def test_a_license_for_a_material_no_license_covers_is_refused_without_asking():
    service = FakeLicenseService(held={"business_license": VIEW})
    application, _, licenses = resolved(
        [{"code": "legal_rep_id_card", "license_id": "L" + "d" * 31}], service
    )
    errors = check_materials(application, SCENARIO, {FILE}, licenses)
    assert "no e-licence covers legal_rep_id_card" in errors["0"]["license_id"][0]
    assert not [c for c in service.calls if c[0] == "check_license"]


def test_no_license_question_when_every_covered_material_is_uploaded():
    service = FakeLicenseService()
    resolved(
        [
            {"code": "legal_rep_id_card", "file_id": FILE},
            {"code": "business_license", "file_id": FILE},
        ],
        service,
    )
    assert service.calls == []


def test_the_checklist_marks_what_the_holders_licenses_fill():
    view = once_only.checklist_view(SCENARIO, {"business_license": VIEW}, HOLDER)
    marks = {m["code"]: m["provided_by"] for m in view["checklist"]}
    assert marks == {"legal_rep_id_card": "upload", "business_license": "e_license"}
    assert view["to_upload"] == ["legal_rep_id_card"]


def test_validation_passes_the_licenses_through():
    service = FakeLicenseService(held={"business_license": VIEW})
    application, _, licenses = resolved([{"code": "legal_rep_id_card", "file_id": FILE}], service)
    assert validate_application(application, SCENARIO, {"level": "county"}, {FILE}, licenses) == {}
    with pytest.raises(ValidationError):
        validate_application(application, SCENARIO, {"level": "county"}, {FILE})
