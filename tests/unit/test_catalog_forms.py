"""Every package's form is a valid JSON Schema that a generic client can fill."""

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from services.catalog.domain import Catalog, form_json_schema, load_data
from onestop.client import sample_application
from services.intake.domain import form_schema

CATALOG = Catalog(load_data())


@pytest.mark.parametrize("code", list(CATALOG.scenarios))
def test_the_form_schema_accepts_the_sample_and_intake_agrees(code):
    view = CATALOG.scenario_view(code)
    schema = view["form_schema"]
    Draft202012Validator.check_schema(schema)
    optional = [i["code"] for i in view["items"] if i["optional"]]
    form = sample_application(view, "f" * 32, optional_items=optional)["form"]

    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    assert list(validator.iter_errors(form)) == []
    assert form_schema(view["form_fields"]).load(form)  # intake validates the same form
    assert set(schema["required"]) <= set(form)


@pytest.mark.parametrize("code", list(CATALOG.scenarios))
def test_the_form_schema_refuses_an_empty_form_and_unknown_fields(code):
    schema = CATALOG.scenario_view(code)["form_schema"]
    validator = Draft202012Validator(schema)
    assert not validator.is_valid({})
    assert not validator.is_valid({"unexpected": 1})


@pytest.mark.parametrize("code", list(CATALOG.scenarios))
def test_every_property_carries_its_chinese_title_and_english_title_stays(code):
    scenario = CATALOG.scenarios[code]
    schema = CATALOG.scenario_view(code)["form_schema"]
    assert schema["x-title-zh"] == scenario["name_zh"] and schema["title"] == scenario["name"]
    for field in scenario["form"]:
        prop = schema["properties"][field["name"]]
        assert prop["title"] == field["title"]
        assert prop["x-title-zh"] == field["title_zh"]
        if "enum" in field:
            assert prop["enum"] == field["enum"]
            assert prop["x-enum-titles-zh"] == field["enum_zh"]
            assert len(prop["x-enum-titles-zh"]) == len(prop["enum"])
        else:
            assert "x-enum-titles-zh" not in prop


def test_the_births_form_reads_in_chinese():
    properties = CATALOG.scenario_view("birth")["form_schema"]["properties"]
    assert properties["child_name"]["x-title-zh"] == "新生儿姓名"
    assert properties["mother_id_number"]["x-title-zh"] == "母亲公民身份号码"
    sex = properties["child_sex"]
    assert dict(zip(sex["enum"], sex["x-enum-titles-zh"])) == {"female": "女", "male": "男"}


def test_a_form_stored_before_the_chinese_titles_has_no_chinese_keywords():
    """A catalog version loaded before title_zh/enum_zh existed still serves its form."""
    old = {
        "code": "old",
        "name": "Old",
        "form": [{"name": "kind", "title": "Kind", "type": "string", "enum": ["a", "b"]}],
    }
    schema = form_json_schema(old)
    Draft202012Validator.check_schema(schema)
    assert "x-title-zh" not in schema
    assert schema["properties"]["kind"] == {"title": "Kind", "type": "string", "enum": ["a", "b"]}


def test_the_chinese_keywords_do_not_change_what_the_form_accepts():
    schema = CATALOG.scenario_view("birth")["form_schema"]
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    form = {
        "child_name": "张小明",
        "child_birth_date": "2026-03-02",
        "child_sex": "female",
        "birth_hospital": "湖南省妇幼保健院",
        "mother_id_number": "43010219900101002X",
    }
    assert validator.is_valid(form)
    assert not validator.is_valid(dict(form, child_sex="女"))  # the value stays the code


def test_package_summaries_and_details_carry_the_chinese_description():
    summary = CATALOG.scenario_summary("birth")
    assert summary["description_zh"] == CATALOG.scenarios["birth"]["description_zh"]
    assert summary["description_zh"].startswith("一次申请")
    assert CATALOG.scenario_view("birth")["description_zh"] == summary["description_zh"]
    assert all(s["description_zh"] for s in CATALOG.search_scenarios())


def test_packages_are_found_by_their_chinese_description():
    found = [s["code"] for s in CATALOG.search_scenarios(q="水电气过户")]
    assert found == ["real_estate_registration"]
