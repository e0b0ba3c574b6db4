"""Validation of an application against its scenario, without services."""
import pytest
from marshmallow import ValidationError

from services.catalog.domain import Catalog, load_data
from onestop.client import sample_application
from services.intake.domain import validate_application
from services.intake.schemas import ApplicationSchema

CATALOG = Catalog(load_data())
FILE = "a" * 32
COUNTY = {"code": "430102", "level": "county"}


def prepared(code="birth", **changes):
    body = sample_application(CATALOG.scenario_view(code), FILE)
    body.update(changes)
    return ApplicationSchema().load(body)


def errors_of(body, code="birth", region=COUNTY, uploads=frozenset({FILE})):
    with pytest.raises(ValidationError) as raised:
        validate_application(body, CATALOG.scenario_view(code), region, uploads)
    return raised.value.messages


@pytest.mark.parametrize("code", list(CATALOG.scenarios))
def test_a_sample_application_of_every_scenario_is_valid(code):
    form = validate_application(prepared(code), CATALOG.scenario_view(code), COUNTY, {FILE})
    assert set(form) >= {f["name"] for f in CATALOG.scenario_view(code)["form_fields"]
                         if f.get("required", True)}


def test_missing_required_form_field_is_named():
    body = prepared()
    body["form"].pop("child_name")
    assert "child_name" in errors_of(body)["form"]


def test_unknown_form_field_is_refused():
    body = prepared()
    body["form"]["favourite_colour"] = "red"
    assert "favourite_colour" in errors_of(body)["form"]


def test_a_missing_material_is_listed():
    body = prepared()
    dropped = body["materials"].pop(0)["code"]
    assert any(dropped in message for message in errors_of(body)["materials"]["missing"])


def test_a_material_not_on_the_checklist_or_given_twice_is_refused():
    body = prepared()
    body["materials"].append({"code": "eia_report", "file_id": FILE})
    body["materials"].append(dict(body["materials"][0]))
    errors = errors_of(body)["materials"]
    assert "eia_report" in errors[str(len(body["materials"]) - 2)]["code"][0]
    assert "twice" in errors[str(len(body["materials"]) - 1)]["code"][0]


def test_an_unknown_upload_is_refused():
    assert errors_of(prepared(), uploads=frozenset())["materials"]["0"]["file_id"]


def test_region_must_exist_and_be_a_county():
    assert errors_of(prepared(), region=None)["region"]
    assert errors_of(prepared(), region={"code": "430100", "level": "city"})["region"]


def test_optional_item_materials_are_required_only_when_chosen():
    body = prepared(optional_items=["HN-WJ-0002"])
    messages = errors_of(body)["materials"]["missing"]
    assert any("vaccination_record" in m for m in messages)


def test_applicant_kind_must_suit_the_scenario():
    body = prepared()
    body["applicant"]["kind"] = "enterprise"
    assert "kind" in errors_of(body)["applicant"]


def test_shape_errors_come_per_field():
    with pytest.raises(ValidationError) as raised:
        ApplicationSchema().load({"scenario": "birth", "channel": "fax", "extra": 1,
                                  "applicant": {"kind": "alien", "id_number": "1", "name": ""}})
    messages = raised.value.messages
    assert set(messages) >= {"channel", "extra", "applicant", "region", "form", "materials"}
    assert set(messages["applicant"]) == {"kind", "id_number", "name"}


def test_a_material_the_package_itself_produces_is_not_asked_of_the_applicant():
    from services.intake.domain import required_materials
    view = CATALOG.scenario_view("enterprise_startup")
    business_licence = next(m for m in view["checklist"] if m["code"] == "business_license")
    assert business_licence["provided_by"] == "HN-SJ-0001"
    assert "business_license" not in required_materials(view, [])
    # the applicant still has to supply what no item of the package produces
    assert "legal_rep_id_card" in required_materials(view, [])


def test_a_produced_material_may_still_be_given_but_is_not_required():
    body = prepared("enterprise_startup")
    body["materials"].append({"code": "business_license", "file_id": FILE})
    view = CATALOG.scenario_view("enterprise_startup")
    validate_application(body, view, COUNTY, {FILE})
