"""Validation of an application against its scenario, and intake's other rules (who may
apply, idempotent retries, corrections, withdrawals), without services."""

from datetime import datetime, timezone

import pytest
from marshmallow import ValidationError

from onestop.common.auth import Principal
from onestop.common.errors import Conflicting, Invalid, NotAllowed, Unknown
from onestop.common.http import domain_status
from services.catalog.domain import Catalog, load_data
from onestop.client import sample_application
from services.intake import domain, views
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
    assert set(form) >= {
        f["name"] for f in CATALOG.scenario_view(code)["form_fields"] if f.get("required", True)
    }


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


def test_a_township_is_a_region_an_applicant_may_name():
    """Items delegated to townships (乡镇/街道) are handled there when the township is named."""
    body = prepared(region="430121001")
    township = {"code": "430121001", "level": "township"}
    assert validate_application(body, CATALOG.scenario_view("birth"), township, {FILE})
    with pytest.raises(ValidationError) as refused:
        prepared(region="4301210")  # neither six digits nor nine
    assert "region" in refused.value.messages


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
        ApplicationSchema().load(
            {
                "scenario": "birth",
                "channel": "fax",
                "extra": 1,
                "applicant": {"kind": "alien", "id_number": "1", "name": ""},
            }
        )
    messages = raised.value.messages
    assert set(messages) >= {"channel", "extra", "applicant", "region", "form", "materials"}
    assert set(messages["applicant"]) == {"kind", "id_number", "name"}


def test_a_material_the_package_itself_produces_is_not_asked_of_the_applicant():
    from services.intake.domain import required_materials

    view = CATALOG.scenario_view("enterprise_startup")
    business_license = next(m for m in view["checklist"] if m["code"] == "business_license")
    assert business_license["provided_by"] == "HN-SJ-0001"
    assert "business_license" not in required_materials(view, [])
    # the applicant still has to supply what no item of the package produces
    assert "legal_rep_id_card" in required_materials(view, [])


def test_a_produced_material_may_still_be_given_but_is_not_required():
    body = prepared("enterprise_startup")
    body["materials"].append({"code": "business_license", "file_id": FILE})
    view = CATALOG.scenario_view("enterprise_startup")
    validate_application(body, view, COUNTY, {FILE})


# -- the rules the service applies (refusals are onestop.common.errors, mapped to HTTP) ----
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
ME = Principal("applicant", "430102199001011234")
CLERK = Principal("clerk", "clerk-0001", region="430102")


def refusal(call, *args):
    with pytest.raises((Invalid, NotAllowed, Unknown, Conflicting)) as raised:
        call(*args)
    status, _ = domain_status(raised.value)
    return status, raised.value.message, raised.value.fields


def test_applicants_apply_for_themselves_online_and_clerks_at_the_counter():
    body = {"applicant": {"id_number": ME.sub}, "channel": "online", "region": "430102"}
    domain.check_submitter(ME, body)
    domain.check_submitter(CLERK, dict(body, channel="counter"))
    assert refusal(
        domain.check_submitter, ME, {"applicant": {"id_number": "x"}, "channel": "online"}
    )[:2] == (403, "an applicant may apply only for themselves")
    assert refusal(domain.check_submitter, ME, dict(body, channel="counter")) == (
        403,
        "the counter channel is for counter clerks",
        {"channel": ["online or mobile for applicants"]},
    )
    assert refusal(domain.check_submitter, CLERK, body)[2] == {"channel": ["counter for clerks"]}


def test_a_counter_clerk_applies_only_inside_their_counters_region():
    body = {"applicant": {"id_number": ME.sub}, "channel": "counter", "region": "430111"}
    assert refusal(domain.check_submitter, CLERK, body) == (
        403,
        "a counter clerk of region 430102 may not apply for region 430111",
        {"region": ["outside your counter's region 430102"]},
    )
    city_counter = Principal("clerk", "clerk-0002", region="430100")
    domain.check_submitter(city_counter, body)  # Yuhua district lies in Changsha city
    no_region = Principal("clerk", "clerk-0003")
    assert refusal(domain.check_submitter, no_region, body)[:2] == (
        403,
        "a counter clerk's token must name their counter's region (claim region)",
    )


def test_an_idempotency_key_belongs_to_its_caller():
    assert domain.scoped_key({"role": "applicant", "sub": ME.sub}, "k1") != domain.scoped_key(
        {"role": "clerk", "sub": CLERK.sub}, "k1"
    )
    assert domain.not_your_upload("M01").startswith("M01: no upload of yours")


def test_who_sees_which_applications():
    query = {"applicant": None, "status": "submitted", "scenario": None}
    assert domain.list_criteria(ME, query) == {
        "applicant": ME.sub,
        "clerk": None,
        "region": None,
        "status": "submitted",
        "scenario": None,
    }
    assert domain.list_criteria(CLERK, dict(query, applicant="A")) == {
        "applicant": "A",
        "clerk": CLERK.sub,
        "region": "430102",
        "status": "submitted",
        "scenario": None,
    }
    operator = Principal("operator", "operator-0001")
    assert domain.list_criteria(operator, query)["applicant"] is None
    supervisor = Principal("supervisor", "supervisor-0001", region="430100")
    assert domain.list_criteria(supervisor, query)["region"] == "430100"
    assert refusal(domain.list_criteria, ME, dict(query, applicant="someone else"))[::2] == (
        403,
        {"applicant": ["only your own ID number"]},
    )


def test_an_unknown_scenario_is_invalid_when_applying_and_unknown_for_a_checklist():
    assert refusal(domain.known_scenario, None, "nope")[:2] == (400, "validation failed")
    assert refusal(domain.listed_scenario, None, "nope")[0] == 404


def test_validation_failures_keep_their_messages_per_field():
    status, message, fields = refusal(
        domain.checked_form, prepared(), CATALOG.scenario_view("birth"), None, {FILE}, None
    )
    assert (status, message) == (400, "validation failed") and "region" in fields


def test_a_retry_gets_the_stored_application_and_a_different_body_a_conflict():
    view = CATALOG.scenario_view("birth")
    body = prepared()
    submitted, application = domain.submission(body, view, {}, [], ME, "key-1", NOW)
    assert application["_id"] == submitted["application_id"]
    assert application["idempotency_key"] == f"applicant:{ME.sub}:key-1"
    assert submitted["submitted_at"] == NOW.isoformat() and "fingerprint" not in submitted
    _, again = domain.submission(body, view, {}, [], ME, "key-1", NOW)
    assert domain.replayed(application, again) is application
    _, changed = domain.submission(dict(body, channel="mobile"), view, {}, [], ME, "key-1", NOW)
    assert refusal(domain.replayed, application, changed) == (
        409,
        "this Idempotency-Key was used for a different application",
        {"Idempotency-Key": ["reused with a different body"]},
    )
    assert views.accepted(application) == {
        "id": application["_id"],
        "status": "submitted",
        "status_url": f"/api/applications/{application['_id']}",
    }


def test_a_correction_only_when_one_is_awaited_and_only_what_was_asked():
    tasks = [
        {
            "task_id": "t1",
            "state": "correction_required",
            "requested_materials": ["birth_certificate"],
        },
        {"task_id": "t2", "state": "done"},
    ]
    application = {"_id": "a1", "status": "awaiting_correction", "tasks": tasks}
    given = [{"code": "birth_certificate", "file_id": FILE}]
    corrected = domain.correction(application, given, {FILE}, NOW)
    assert corrected["task_ids"] == ["t1"] and corrected["application_id"] == "a1"
    assert refusal(domain.correction, application, given, set(), NOW)[0] == 400
    assert refusal(domain.correction, dict(application, status="in_review"), given, {FILE}, NOW)[
        :2
    ] == (409, "the application is in_review; nothing awaits a correction")


def test_a_withdrawal_only_before_the_decision():
    withdrawn = domain.withdrawal({"_id": "a1", "status": "in_review"}, "moved away", NOW)
    assert withdrawn == {
        "application_id": "a1",
        "reason": "moved away",
        "withdrawn_at": NOW.isoformat(),
    }
    for status in ("approved", "rejected", "withdrawn"):
        assert refusal(domain.withdrawal, {"_id": "a1", "status": status}, "r", NOW)[:2] == (
            409,
            f"the application is already {status}",
        )
