"""Review and rectification rules without services; the clock and the calendar are passed in."""

from datetime import datetime, timedelta, timezone

import pytest

from onestop.common.auth import Principal
from onestop.common.errors import Conflicting, Invalid, NotAllowed, Unknown
from onestop.common.http import domain_status
from onestop.common.working_days import WorkingCalendar
from services.feedback import domain
from services.feedback.limits import InvalidLimits, load_limits

# Monday 2 March 2026, 10:00 China time; in this calendar 3 March is off, Saturday 7 March on
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
CALENDAR = WorkingCalendar({"holidays": ["2026-03-03"], "workdays": ["2026-03-07"]})
LIMITS = {
    "default": {
        "review_window": 15,
        "follow_up_window": 15,
        "return_visit": 1,
        "rectification": 15,
        "confirmation": 5,
    },
    "regions": {"430100": {"rectification": 10}, "430111": {"rectification": 5}},
}
APPLICANT = "91430100MA4L0XXX1Y"


def decided(outcome="approved"):
    return {
        "application_id": "app1",
        "scenario": "enterprise_startup",
        "region": "430102",
        "catalog_version": 1,
        "applicant": {"id_number": APPLICANT, "kind": "enterprise"},
        "decision": {"outcome": outcome, "decided_at": MONDAY.isoformat()},
        "tasks": [
            {"department": "market_regulation", "region": "430100", "item_code": "HN-SJ-0001"},
            {"department": "taxation", "region": "430102", "item_code": "HN-SW-0001"},
            {"department": "taxation", "region": "430102", "item_code": "HN-SW-0009"},
        ],
    }


def application(outcome="approved"):
    return dict(domain.decided_application(decided(outcome), LIMITS, CALENDAR), _id="app1")


def review_body(level="satisfied", department=None, comment="slow window"):
    return {
        "applicant_id": APPLICANT,
        "level": level,
        "channel": "online",
        "department": department,
        "comment": comment,
        "tags": [],
    }


def review(level="dissatisfied", department="taxation", at=MONDAY):
    return domain.new_review(
        "app1", application(), review_body(level, department), LIMITS, CALENDAR, at
    )


def case(at=MONDAY, department="taxation"):
    return dict(domain.open_case(review(department=department), LIMITS, CALENDAR, at), rev=1)


# -- limits ---------------------------------------------------------------------------
def test_limits_inherit_default_then_city_then_county():
    assert domain.limits_for("430102", LIMITS)["rectification"] == 10  # Changsha city
    assert domain.limits_for("430111", LIMITS)["rectification"] == 5  # Yuhua district
    assert domain.limits_for("430202", LIMITS)["rectification"] == 15  # Zhuzhou: default
    assert domain.limits_for("430111", LIMITS)["return_visit"] == 1


@pytest.mark.parametrize(
    "limits, problem",
    [
        ({}, "default"),
        ({"default": {"review_window": 1}}, "lacks"),
        (dict(LIMITS, regions={"430100": {"rectification": 0}}), ">= 1"),
        (dict(LIMITS, regions={"430100": {"rectify": 3}}), "not one of"),
    ],
)
def test_an_unusable_limits_configuration_is_named(limits, problem):
    assert any(problem in p for p in domain.check_limits(limits))


def test_the_shipped_limits_file_loads_and_a_bad_one_does_not(tmp_path):
    assert load_limits()["default"]["return_visit"] == 1
    bad = tmp_path / "limits.yaml"
    bad.write_text("default: {review_window: -1}\n")
    with pytest.raises(InvalidLimits):
        load_limits(bad)


# -- who may review what, when ----------------------------------------------------------
def test_the_review_window_counts_working_days_on_the_calendar():
    # the 15th working day after Monday 2 March (4-7, 9-13, 16-20, 23 March), end of day
    assert application()["review_due"].startswith("2026-03-23T15:59:59")


@pytest.mark.parametrize("outcome", ["approved", "rejected", "withdrawn"])
def test_decided_and_withdrawn_applications_can_be_reviewed(outcome):
    domain.check_reviewable(application(outcome), APPLICANT, None, None, MONDAY)


@pytest.mark.parametrize(
    "app, applicant, department, existing, at, refusal, status, text",
    [
        (None, APPLICANT, None, None, MONDAY, Unknown, 404, "no decided application"),
        (
            {"status": "submitted", "applicant_id": APPLICANT},
            APPLICANT,
            None,
            None,
            MONDAY,
            Conflicting,
            409,
            "decided or withdrawn",
        ),
        # someone else's application is unknown to them, decided or not
        (
            {"status": "submitted", "applicant_id": APPLICANT},
            "430102199001011234",
            None,
            None,
            MONDAY,
            Unknown,
            404,
            "no decided application",
        ),
        ("app", "430102199001011234", None, None, MONDAY, Unknown, 404, "no decided application"),
        ("app", APPLICANT, "health", None, MONDAY, Invalid, 400, "did not take part"),
        (
            "app",
            APPLICANT,
            None,
            None,
            MONDAY + timedelta(days=40),
            Conflicting,
            409,
            "window closed",
        ),
        (
            "app",
            APPLICANT,
            "taxation",
            {"_id": "R1"},
            MONDAY,
            Conflicting,
            409,
            "already been reviewed",
        ),
    ],
)
def test_reviews_are_refused_with_a_reason(
    app, applicant, department, existing, at, refusal, status, text
):
    app = application() if app == "app" else app
    with pytest.raises(refusal) as refused:
        domain.check_reviewable(app, applicant, department, existing, at)
    assert domain_status(refused.value)[0] == status and text in refused.value.message


def test_a_department_review_covers_that_departments_items_and_office():
    made = review("satisfied", "taxation")
    assert made["items"] == ["HN-SW-0001", "HN-SW-0009"] and made["region"] == "430102"
    assert made["_id"] == domain.review_id("app1", "taxation") != domain.review_id("app1", None)
    assert (made["bad"], made["case_pending"], made["score"]) == (False, False, 4)
    whole = domain.new_review("app1", application(), review_body(), LIMITS, CALENDAR, MONDAY)
    assert whole["target"] == domain.SERVICE_CENTER and whole["items"] == []


def test_one_follow_up_within_its_window_and_its_level_counts():
    first = review("satisfied")
    domain.check_follow_up(first, APPLICANT, MONDAY + timedelta(days=5))
    followed = domain.add_follow_up(first, review_body("very_dissatisfied"), MONDAY)
    assert domain.effective_level(followed) == "very_dissatisfied"
    assert followed["case_pending"] is True  # a bad follow-up opens the case
    with pytest.raises(Conflicting, match="already has its follow-up"):
        domain.check_follow_up(followed, APPLICANT, MONDAY)
    with pytest.raises(Conflicting, match="follow-up window closed"):
        domain.check_follow_up(first, APPLICANT, MONDAY + timedelta(days=40))
    with pytest.raises(Unknown):  # someone else's review, like an unknown one
        domain.check_follow_up(first, "430102199001011234", MONDAY)


# -- rectification ------------------------------------------------------------------------
def test_a_case_has_a_return_visit_and_a_rectification_deadline_of_its_region():
    opened = case()
    assert opened["state"] == "awaiting_visit"
    assert opened["visit_due"].startswith("2026-03-04T15:59:59")  # 3 March is off
    assert opened["limits"]["rectification"] == 10  # Changsha (430102)


def test_the_department_visits_then_rectifies_then_the_applicant_confirms():
    visited = domain.record_visit(
        case(),
        {"department": "taxation", "officer": "Wang", "method": "phone", "note": "apologised"},
        MONDAY,
    )
    assert visited["state"] == "awaiting_rectification" and visited["visit"]["on_time"]
    fixed = domain.record_rectification(
        visited,
        {"department": "taxation", "officer": "Wang", "measures": "second window"},
        CALENDAR,
        MONDAY + timedelta(days=30),
    )
    assert fixed["state"] == "awaiting_confirmation" and not fixed["rectification"]["on_time"]
    closed = domain.confirm(fixed, {"applicant_id": APPLICANT, "comment": "ok"}, MONDAY)
    assert closed["state"] == "closed" and closed["confirmation"]["answer"] == "confirmed"


def test_steps_out_of_order_or_by_others_are_refused():
    with pytest.raises(Conflicting):
        domain.record_rectification(
            case(), {"department": "taxation", "officer": "W", "measures": "m"}, CALENDAR, MONDAY
        )
    with pytest.raises(NotAllowed) as refused:
        domain.record_visit(
            case(), {"department": "health", "officer": "W", "method": "sms", "note": "n"}, MONDAY
        )
    assert refused.value.fields == {"department": ["this case belongs to taxation"]}
    with pytest.raises(Conflicting):
        domain.confirm(case(), {"applicant_id": APPLICANT, "comment": ""}, MONDAY)


def test_a_dispute_starts_a_new_round_with_a_new_deadline_of_its_own():
    visited = domain.record_visit(
        case(), {"department": "taxation", "officer": "W", "method": "phone", "note": "n"}, MONDAY
    )
    fixed = domain.record_rectification(
        visited, {"department": "taxation", "officer": "W", "measures": "m"}, CALENDAR, MONDAY
    )
    later = MONDAY + timedelta(days=2)
    disputed = domain.dispute(
        fixed, {"applicant_id": APPLICANT, "reason": "no change"}, CALENDAR, later
    )
    assert (disputed["state"], disputed["round"]) == ("awaiting_rectification", 2)
    assert disputed["earlier_rounds"][0]["disputed"]["reason"] == "no change"
    assert disputed["rectify_due"] > fixed["rectify_due"]
    found = domain.newly_overdue(
        domain.mark_overdue(disputed, [("rectification", "", "")], later),
        later + timedelta(days=60),
    )
    assert [key for key, _, _ in found] == ["rectification#2"]


def test_overdue_deadlines_are_found_once_each():
    opened = case()
    assert domain.newly_overdue(opened, MONDAY) == []
    two_days = MONDAY + timedelta(days=3)
    found = domain.newly_overdue(opened, two_days)
    assert [key for key, _, _ in found] == ["return_visit"]
    marked = domain.mark_overdue(opened, found, two_days)
    assert domain.newly_overdue(marked, two_days) == []
    much_later = MONDAY + timedelta(days=40)
    assert [key for key, _, _ in domain.newly_overdue(marked, much_later)] == ["rectification"]


def test_silence_closes_a_rectified_case_after_the_confirmation_limit():
    visited = domain.record_visit(
        case(), {"department": "taxation", "officer": "W", "method": "phone", "note": "n"}, MONDAY
    )
    fixed = domain.record_rectification(
        visited, {"department": "taxation", "officer": "W", "measures": "m"}, CALENDAR, MONDAY
    )
    assert domain.close_unanswered(fixed, MONDAY + timedelta(days=1)) is None
    closed = domain.close_unanswered(fixed, MONDAY + timedelta(days=20))
    assert closed["confirmation"]["answer"] == "not_answered"


def test_supervision_publishes_each_passed_deadline_once_and_closes_silence():
    opened = case()
    assert domain.supervision(opened, MONDAY) is None
    marked, events = domain.supervision(opened, MONDAY + timedelta(days=3))
    assert [(t, body["deadline"]) for t, body in events] == [
        ("rectification_overdue", "return_visit")
    ]
    assert domain.supervision(marked, MONDAY + timedelta(days=3)) is None
    visited = domain.record_visit(
        case(), {"department": "taxation", "officer": "W", "method": "phone", "note": "n"}, MONDAY
    )
    fixed = domain.record_rectification(
        visited, {"department": "taxation", "officer": "W", "measures": "m"}, CALENDAR, MONDAY
    )
    closed, events = domain.supervision(fixed, MONDAY + timedelta(days=20))
    assert closed["state"] == "closed" and [t for t, _ in events] == ["rectification_closed"]
    assert domain.step_events(visited, MONDAY) == []


# -- who acts ------------------------------------------------------------------------------
OFFICER = Principal("officer", "o-1", office="taxation.430102", name="Wang")
OPERATOR = Principal("operator", "op-1")


def test_an_officer_acts_for_their_own_department_and_an_operator_names_both():
    body = {"department": None, "officer": None, "method": "phone", "note": "n"}
    assert domain.acting_department(OFFICER, body)["department"] == "taxation"
    assert domain.acting_department(OFFICER, body)["officer"] == "Wang"
    with pytest.raises(NotAllowed, match="their own department"):
        domain.acting_department(OFFICER, dict(body, department="health"))
    with pytest.raises(Invalid) as refused:
        domain.acting_department(OPERATOR, dict(body, department="health"))
    assert refused.value.message == "name the department and officer"
    assert refused.value.fields == {"officer": ["required"]}
    named = dict(body, department="health", officer="Li")
    assert domain.acting_department(OPERATOR, named) == named


def test_an_officer_lists_and_sees_only_their_departments_cases():
    query = {"department": None, "state": None, "overdue": None, "limit": 100}
    assert domain.cases_visible_to(OFFICER, query)["department"] == "taxation"
    assert domain.cases_visible_to(OFFICER, query)["office_region"] == "430102"
    assert domain.cases_visible_to(OPERATOR, query) == dict(query, region=None, office_region=None)
    with pytest.raises(NotAllowed):
        domain.cases_visible_to(OFFICER, dict(query, department="health"))
    assert domain.may_see_case(OFFICER, case())
    assert not domain.may_see_case(OFFICER, case(department="market_regulation"))
    assert domain.may_see_case(Principal("applicant", APPLICANT), case())
    assert not domain.may_see_case(Principal("applicant", "430102199001011234"), case())


def test_an_officer_acts_only_for_their_office_not_the_whole_department():
    elsewhere = Principal("officer", "o-2", office="taxation.430111", name="Zhao")
    assert not domain.may_see_case(elsewhere, case())  # taxation, but of 430102
    assert not domain.officer_of(elsewhere, application())
    assert domain.officer_of(OFFICER, application())
    body = {"department": None, "officer": None, "method": "phone", "note": "n"}
    with pytest.raises(NotAllowed, match="taxation.430102; yours is taxation.430111"):
        domain.record_visit(case(), domain.acting_department(elsewhere, body), MONDAY)
    visited = domain.record_visit(case(), domain.acting_department(OFFICER, body), MONDAY)
    assert visited["state"] == "awaiting_rectification"


def test_a_supervisor_with_a_region_sees_only_that_regions_cases():
    query = {"department": None, "state": None, "overdue": None, "limit": 100}
    changsha = Principal("supervisor", "s-1", region="430100")
    zhuzhou = Principal("supervisor", "s-2", region="430200")
    assert domain.cases_visible_to(changsha, query)["region"] == "430100"
    assert domain.may_see_case(changsha, case())  # 430102 lies in Changsha city
    assert not domain.may_see_case(zhuzhou, case())
    assert domain.may_see_case(Principal("supervisor", "s-3"), case())  # no region: all


# -- statistics ---------------------------------------------------------------------------
def test_statistics_show_the_distribution_and_count_silence_as_not_reviewed():
    apps = [dict(application(), _id=f"a{i}") for i in range(4)]
    reviews = [
        dict(review(level, "taxation"), application_id=f"a{i}")
        for i, level in enumerate(["very_satisfied", "basically_satisfied", "very_dissatisfied"])
    ]
    cases = [case()]
    during = domain.statistics(apps, reviews, cases, "department", MONDAY)
    taxation = {g["key"]: g for g in during}["taxation"]
    assert taxation["levels"] == {
        "very_satisfied": 1,
        "satisfied": 0,
        "basically_satisfied": 1,
        "dissatisfied": 0,
        "very_dissatisfied": 1,
    }
    assert (taxation["good"], taxation["bad"], taxation["good_review_rate"]) == (2, 1, 0.6667)
    assert (taxation["reviewed"], taxation["awaiting_review"], taxation["not_reviewed"]) == (
        3,
        1,
        0,
    )
    assert taxation["active_review_rate"] == 0.75
    after = {
        g["key"]: g
        for g in domain.statistics(apps, reviews, cases, "department", MONDAY + timedelta(days=60))
    }["taxation"]
    assert (after["awaiting_review"], after["not_reviewed"]) == (0, 1)
    assert after["good_review_rate"] == 0.6667  # silence is not a good review
    assert after["rectification"]["visits_late"] == 1
    assert after["rectification"]["visit_timeliness"] == 0.0
    market = {g["key"]: g for g in during}["market_regulation"]
    assert market["reviews"] == 0 and market["good_review_rate"] is None


def test_statistics_by_item_and_scenario():
    reviews = [
        review("satisfied", "taxation"),
        domain.new_review(
            "app1", application(), review_body("dissatisfied", None), LIMITS, CALENDAR, MONDAY
        ),
    ]
    by_item = {g["key"]: g for g in domain.statistics([application()], reviews, [], "item", MONDAY)}
    assert by_item["HN-SW-0009"]["levels"]["satisfied"] == 1
    assert by_item["HN-SJ-0001"]["reviews"] == 0 and by_item["HN-SJ-0001"]["applications"] == 1
    by_scenario = domain.statistics([application()], reviews, [], "scenario", MONDAY)
    assert by_scenario[0]["key"] == "enterprise_startup"
    assert by_scenario[0]["levels"]["dissatisfied"] == 1 and by_scenario[0]["reviews"] == 1
