"""Every package's form is a valid JSON Schema that a generic client can fill."""

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from services.catalog.domain import Catalog, load_data
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
