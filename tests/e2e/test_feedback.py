"""Good/bad reviews through the running mesh: who may review what, one review per target and
one follow-up, a bad review followed to a closed rectification case, and the numbers on
/api/reviews/stats and /metrics. Every request carries the caller's bearer token: the
applicant reviews, confirms and disputes as themselves, the department's officer visits and
rectifies, a supervisor reads the statistics."""

import time

import pytest

from onestop.client import ENTERPRISE_ID, PERSON_ID
from tests.support.event_probe import EventProbe
from tests.support.scrape import metric

STRANGER = "430102198805051234"


def review(mesh, application_id, level="satisfied", applicant=ENTERPRISE_ID, **extra):
    """A review as `applicant` (their token; the body names no applicant unless `extra`
    does)."""
    body = dict({"level": level, "channel": "online"}, **extra)
    return mesh.post(
        f"/api/applications/{application_id}/reviews",
        json=body,
        headers=mesh.as_("applicant", applicant),
    )


def known_to_reviews(mesh, application_id, applicant=ENTERPRISE_ID, timeout=30):
    """Wait until feedback has heard of the application (it learns it from an event)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = mesh.get(
            f"/api/applications/{application_id}/reviews", headers=mesh.as_("applicant", applicant)
        )
        if listing.status_code == 200:
            return listing.json()
        time.sleep(0.1)
    raise AssertionError(f"feedback never heard of {application_id}")


def decided(client, mesh, code="enterprise_startup", applicant=ENTERPRISE_ID, **kwargs):
    application_id = client.apply(code, **kwargs)
    client.wait_for_decision(application_id)
    known_to_reviews(mesh, application_id, applicant)
    deadline = time.monotonic() + 30
    # decided there: a department that took no part is refused as such (400), where an
    # application not yet decided is refused as undecided (409); nothing is stored
    while (
        review(
            mesh, application_id, applicant=applicant, department="no_such_department"
        ).status_code
        != 400
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return application_id


def officer(mesh, department, name=None, region="430102"):
    """Headers of an officer of `department` (the token's name is who visits or rectifies)."""
    return mesh.as_("officer", office=f"{department}.{region}", name=name)


def group(mesh, by, key):
    stats = mesh.get(
        "/api/reviews/stats", params={"by": by, "key": key}, headers=mesh.as_("supervisor")
    ).json()
    return stats["groups"][0] if stats["groups"] else None


def test_only_the_applicant_reviews_a_decided_application_once_per_target(client, mesh):
    application_id = decided(client, mesh)
    # another applicant: someone else's application is unknown to them; the applicant may
    # not name someone else in the body
    assert review(mesh, application_id, applicant=STRANGER).status_code == 404
    assert review(mesh, application_id, applicant_id=STRANGER).status_code == 403
    wrong = review(mesh, application_id, department="health")
    assert (
        wrong.status_code == 400 and "did not take part" in wrong.json()["fields"]["department"][0]
    )

    whole = review(mesh, application_id, "very_satisfied", tags=["fast"], channel="mobile")
    assert whole.status_code == 201, whole.text
    assert whole.json()["target"] == "service_center" and whole.json()["channel"] == "mobile"
    assert "applicant_id" not in whole.json()
    assert review(mesh, application_id, "satisfied").status_code == 409
    department = review(mesh, application_id, "basically_satisfied", department="taxation")
    assert department.status_code == 201
    assert department.json()["items"] == ["HN-SW-0001"]
    listed = mesh.get(
        f"/api/applications/{application_id}/reviews", headers=mesh.as_("applicant", ENTERPRISE_ID)
    ).json()["reviews"]
    assert {r["target"] for r in listed} == {"service_center", "taxation"}
    assert (
        mesh.get(
            f"/api/applications/{application_id}/reviews", headers=mesh.as_("applicant", STRANGER)
        ).status_code
        == 404
    )

    follow_up_path = f"/api/reviews/{department.json()['id']}/follow-up"
    body = {"level": "satisfied", "channel": "sms"}
    owner, stranger = mesh.as_("applicant", ENTERPRISE_ID), mesh.as_("applicant", STRANGER)
    assert mesh.post(follow_up_path, json=body, headers=stranger).status_code == 404
    assert (
        mesh.post(follow_up_path, json=dict(body, applicant_id=STRANGER), headers=owner).status_code
        == 403
    )
    followed = mesh.post(follow_up_path, json=body, headers=owner)
    assert followed.status_code == 201
    assert followed.json()["effective_level"] == "satisfied"
    assert mesh.post(follow_up_path, json=body, headers=owner).status_code == 409


def test_an_application_not_yet_decided_cannot_be_reviewed(client, mesh):
    application_id = client.apply("birth", name="Hold health", region="430103")
    known_to_reviews(mesh, application_id, PERSON_ID)
    refused = review(mesh, application_id, applicant=PERSON_ID)
    assert refused.status_code == 409 and "decided or withdrawn" in refused.json()["message"]
    # to another applicant it is unknown, not "not yet decided"
    assert review(mesh, application_id, applicant=STRANGER).status_code == 404
    assert client.post_as_owner(application_id, "withdraw", {}).status_code == 202
    client.wait_for_decision(application_id)
    deadline = time.monotonic() + 30
    while (response := review(mesh, application_id, applicant=PERSON_ID)).status_code == 409:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.1)
    assert response.status_code == 201, response.text  # a withdrawn application may be reviewed


@pytest.mark.parametrize(
    "role, body, fields",
    [
        # an applicant's identity is their token; level and channel are always needed
        ("applicant", {}, {"level", "channel"}),
        (
            "applicant",
            {"applicant_id": "x", "level": "good", "channel": "fax", "extra": 1},
            {"applicant_id", "level", "channel", "extra"},
        ),
        ("applicant", {"level": "dissatisfied", "channel": "online"}, {"comment"}),
        (
            "applicant",
            {"level": "satisfied", "channel": "online", "tags": ["x" * 41], "comment": 5},
            {"tags", "comment"},
        ),
    ],
)
def test_bad_review_input_gets_per_field_messages(mesh, role, body, fields):
    response = mesh.post(
        f"/api/applications/{'f' * 32}/reviews",
        json=body,
        headers=mesh.as_(role, ENTERPRISE_ID if role == "applicant" else None),
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields


@pytest.mark.parametrize(
    "method, path, body, role",
    [
        (
            "post",
            f"/api/applications/{'f' * 32}/reviews",
            {"level": "satisfied", "channel": "online"},
            "applicant",
        ),
        ("get", f"/api/applications/{'f' * 32}/reviews", None, "applicant"),
        ("get", f"/api/applications/{'f' * 32}/reviews", None, "supervisor"),
        (
            "post",
            "/api/reviews/R123/follow-up",
            {"level": "satisfied", "channel": "online"},
            "applicant",
        ),
        ("get", "/api/rectifications/C123", None, "officer"),
        ("get", "/api/rectifications/C123", None, "supervisor"),
        ("post", "/api/rectifications/C123/visit", {"method": "phone", "note": "n"}, "officer"),
        ("post", "/api/rectifications/C123/confirm", {}, "applicant"),
    ],
)
def test_unknown_things_are_404(mesh, method, path, body, role):
    response = getattr(mesh, method)(
        path, headers=mesh.as_(role), **({"json": body} if body is not None else {})
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path, params",
    [
        ("/api/reviews/stats", {"by": "colour"}),
        ("/api/reviews/stats", {"unknown": "1"}),
        ("/api/rectifications", {"state": "lost"}),
        ("/api/rectifications", {"limit": "0"}),
        ("/api/rectifications", {"overdue": "perhaps"}),
    ],
)
def test_bad_queries_get_per_field_messages(mesh, path, params):
    response = mesh.get(path, params=params, headers=mesh.as_("supervisor"))
    assert response.status_code == 400 and response.json()["fields"]


def test_a_bad_review_is_followed_to_a_closed_rectification_case(client, mesh):
    feedback = mesh.service_url("feedback")
    application_id = decided(client, mesh)
    before = group(mesh, "department", "hrss")
    closed_before = metric(feedback, "feedback_rectification_cases", state="closed")
    reviews_before = metric(
        feedback, "feedback_reviews_total", department="hrss", level="very_dissatisfied"
    )
    probe = EventProbe(
        mesh.amqp_uri,
        "feedback",
        ["rectification_opened", "rectification_closed", "review_submitted"],
    )
    try:
        bad = review(
            mesh,
            application_id,
            "very_dissatisfied",
            department="hrss",
            comment="the social insurance window sent me away twice",
            tags=["repeated_visits"],
        )
        assert bad.status_code == 201
        case_id = bad.json()["case_id"]
        path = f"/api/rectifications/{case_id}"
        hrss = officer(mesh, "hrss", name="Liu Yang", region="430100")  # the city's office
        # the applicant and the department see the case; another department does not
        case = mesh.get(path, headers=mesh.as_("applicant", ENTERPRISE_ID)).json()
        assert mesh.get(path, headers=hrss).json() == case
        assert mesh.get(path, headers=officer(mesh, "health")).status_code == 404
        assert (case["department"], case["state"], case["level"]) == (
            "hrss",
            "awaiting_visit",
            "very_dissatisfied",
        )
        assert case["complaint"]["tags"] == ["repeated_visits"]
        # data/feedback/limits.yaml: Changsha (4301xx) rectifies within 10 working days
        assert case["limits"] == {
            "return_visit": 1,
            "confirmation": 5,
            "rectification": 10 if case["region"].startswith("4301") else 15,
        }
        listed = mesh.get("/api/rectifications", params={"state": "open"}, headers=hrss).json()[
            "cases"
        ]  # an officer's: their department's
        assert case_id in [c["id"] for c in listed]
        assert {c["department"] for c in listed} == {"hrss"}

        # the department and officer come from the hrss officer's token
        fix = {"measures": "one window for all insurance"}
        assert mesh.post(path + "/rectify", json=fix, headers=hrss).status_code == 409
        visit = {"method": "phone", "note": "apologised; the rule was misapplied"}
        # an officer acts for their own department only, and only on its cases
        assert (
            mesh.post(
                path + "/visit", json=dict(visit, department="health"), headers=hrss
            ).status_code
            == 403
        )
        assert (
            mesh.post(path + "/visit", json=visit, headers=officer(mesh, "health")).status_code
            == 403
        )
        visited = mesh.post(path + "/visit", json=visit, headers=hrss)
        assert visited.status_code == 200 and visited.json()["visit"]["on_time"] is True
        assert visited.json()["visit"]["officer"] == "Liu Yang"
        rectified = mesh.post(path + "/rectify", json=fix, headers=hrss)
        assert rectified.json()["state"] == "awaiting_confirmation"

        owner, stranger = mesh.as_("applicant", ENTERPRISE_ID), mesh.as_("applicant", STRANGER)
        # someone else's case is unknown to another applicant; the applicant may not name
        # someone else
        assert (
            mesh.post(path + "/dispute", json={"reason": "no"}, headers=stranger).status_code == 404
        )
        assert (
            mesh.post(
                path + "/dispute", json={"applicant_id": STRANGER, "reason": "no"}, headers=owner
            ).status_code
            == 403
        )
        disputed = mesh.post(path + "/dispute", json={"reason": "still two windows"}, headers=owner)
        assert (disputed.json()["state"], disputed.json()["round"]) == ("awaiting_rectification", 2)
        mesh.post(path + "/rectify", json={"measures": "the second window is closed"}, headers=hrss)
        confirmed = mesh.post(path + "/confirm", json={"comment": "fixed"}, headers=owner)
        assert confirmed.status_code == 200
        assert confirmed.json()["state"] == "closed"
        assert confirmed.json()["confirmation"]["answer"] == "confirmed"
        assert mesh.post(path + "/confirm", json={}, headers=owner).status_code == 409
        events = probe.wait_for(
            lambda seen: (
                {"rectification_opened", "rectification_closed"}
                <= {t for t, p in seen if p.get("case_id") == case_id}
            )
        )
    finally:
        probe.close()
    assert any(t == "review_submitted" and p["review_id"] == bad.json()["id"] for t, p in events)

    after = group(mesh, "department", "hrss")
    assert after["levels"]["very_dissatisfied"] == (
        (before["levels"]["very_dissatisfied"] if before else 0) + 1
    )
    assert set(after["levels"]) == {
        "very_satisfied",
        "satisfied",
        "basically_satisfied",
        "dissatisfied",
        "very_dissatisfied",
    }
    assert after["rectification"]["closed"] == (
        (before["rectification"]["closed"] if before else 0) + 1
    )
    assert after["rectification"]["rate"] is not None
    assert after["rectification"]["visit_timeliness"] is not None
    assert after["active_review_rate"] is not None and after["good_review_rate"] is not None

    assert metric(feedback, "feedback_rectification_cases", state="closed") == closed_before + 1
    assert (
        metric(feedback, "feedback_reviews_total", department="hrss", level="very_dissatisfied")
        == reviews_before + 1
    )
    assert (
        metric(
            feedback,
            "feedback_rectification_cases_closed_total",
            department="hrss",
            answer="confirmed",
        )
        >= 1
    )
    assert (
        metric(
            feedback,
            "feedback_review_levels",
            dimension="department",
            key="hrss",
            level="very_dissatisfied",
        )
        == after["levels"]["very_dissatisfied"]
    )
    assert (
        metric(feedback, "feedback_rectification_ratio", dimension="department", key="hrss")
        == after["rectification"]["rate"]
    )
    assert metric(feedback, "feedback_store_scrape_up") == 1


def test_statistics_by_item_and_scenario_show_all_five_levels(client, mesh):
    application_id = decided(client, mesh)
    before = group(mesh, "item", "HN-SJ-0001")
    assert (
        review(
            mesh,
            application_id,
            "dissatisfied",
            department="market_regulation",
            comment="queue too long",
        ).status_code
        == 201
    )
    after = group(mesh, "item", "HN-SJ-0001")
    assert (
        after["levels"]["dissatisfied"] == (before["levels"]["dissatisfied"] if before else 0) + 1
    )
    scenario = group(mesh, "scenario", "enterprise_startup")
    assert set(scenario["levels"]) == {
        "very_satisfied",
        "satisfied",
        "basically_satisfied",
        "dissatisfied",
        "very_dissatisfied",
    }
    assert scenario["applications"] >= scenario["reviewed"] + scenario["awaiting_review"]
