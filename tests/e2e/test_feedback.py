"""Good/bad reviews through the running mesh: who may review what, one review per target and
one follow-up, a bad review followed to a closed rectification case, and the numbers on
/api/reviews/stats and /metrics."""
import time

import pytest

from onestop.client import ENTERPRISE_ID, PERSON_ID
from tests.support.event_probe import EventProbe
from tests.support.scrape import metric

STRANGER = "430102198805051234"


def review(mesh, application_id, level="satisfied", applicant=ENTERPRISE_ID, **extra):
    body = dict({"applicant_id": applicant, "level": level, "channel": "online"}, **extra)
    return mesh.post(f"/api/applications/{application_id}/reviews", json=body)


def known_to_reviews(mesh, application_id, timeout=30):
    """Wait until feedback has heard of the decision (it learns it from an event)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = mesh.get(f"/api/applications/{application_id}/reviews")
        if listing.status_code == 200:
            return listing.json()
        time.sleep(0.1)
    raise AssertionError(f"feedback never heard of {application_id}")


def decided(client, mesh, code="enterprise_startup", **kwargs):
    application_id = client.apply(code, **kwargs)
    client.wait_for_decision(application_id)
    known_to_reviews(mesh, application_id)
    deadline = time.monotonic() + 30
    while review(mesh, application_id, applicant=STRANGER).status_code != 403:  # decided there
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return application_id


def group(mesh, by, key):
    stats = mesh.get("/api/reviews/stats", params={"by": by, "key": key}).json()
    return stats["groups"][0] if stats["groups"] else None


def test_only_the_applicant_reviews_a_decided_application_once_per_target(client, mesh):
    application_id = decided(client, mesh)
    assert review(mesh, application_id, applicant=STRANGER).status_code == 403
    wrong = review(mesh, application_id, department="health")
    assert wrong.status_code == 400 and "did not take part" in wrong.json()["fields"][
        "department"][0]

    whole = review(mesh, application_id, "very_satisfied", tags=["fast"], channel="mobile")
    assert whole.status_code == 201, whole.text
    assert whole.json()["target"] == "service_center" and whole.json()["channel"] == "mobile"
    assert "applicant_id" not in whole.json()
    assert review(mesh, application_id, "satisfied").status_code == 409
    department = review(mesh, application_id, "basically_satisfied", department="taxation")
    assert department.status_code == 201
    assert department.json()["items"] == ["HN-SW-0001"]
    listed = mesh.get(f"/api/applications/{application_id}/reviews").json()["reviews"]
    assert {r["target"] for r in listed} == {"service_center", "taxation"}

    follow_up_path = f"/api/reviews/{department.json()['id']}/follow-up"
    body = {"applicant_id": ENTERPRISE_ID, "level": "satisfied", "channel": "sms"}
    assert mesh.post(follow_up_path, json=dict(body, applicant_id=STRANGER)).status_code == 403
    followed = mesh.post(follow_up_path, json=body)
    assert followed.status_code == 201
    assert followed.json()["effective_level"] == "satisfied"
    assert mesh.post(follow_up_path, json=body).status_code == 409


def test_an_application_not_yet_decided_cannot_be_reviewed(client, mesh):
    application_id = client.apply("birth", name="Hold health", region="430103")
    known_to_reviews(mesh, application_id)
    refused = review(mesh, application_id, applicant=PERSON_ID)
    assert refused.status_code == 409 and "decided or withdrawn" in refused.json()["message"]
    assert mesh.post(f"/api/applications/{application_id}/withdraw", json={}).status_code == 202
    client.wait_for_decision(application_id)
    deadline = time.monotonic() + 30
    while (response := review(mesh, application_id, applicant=PERSON_ID)).status_code == 409:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.1)
    assert response.status_code == 201, response.text  # a withdrawn application may be reviewed


@pytest.mark.parametrize("body, fields", [
    ({}, {"applicant_id", "level", "channel"}),
    ({"applicant_id": "x", "level": "good", "channel": "fax", "extra": 1},
     {"applicant_id", "level", "channel", "extra"}),
    ({"applicant_id": ENTERPRISE_ID, "level": "dissatisfied", "channel": "online"},
     {"comment"}),
    ({"applicant_id": ENTERPRISE_ID, "level": "satisfied", "channel": "online",
      "tags": ["x" * 41], "comment": 5}, {"tags", "comment"}),
])
def test_bad_review_input_gets_per_field_messages(mesh, body, fields):
    response = mesh.post(f"/api/applications/{'f' * 32}/reviews", json=body)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields


@pytest.mark.parametrize("method, path, body", [
    ("post", f"/api/applications/{'f' * 32}/reviews",
     {"applicant_id": ENTERPRISE_ID, "level": "satisfied", "channel": "online"}),
    ("get", f"/api/applications/{'f' * 32}/reviews", None),
    ("post", "/api/reviews/R123/follow-up",
     {"applicant_id": ENTERPRISE_ID, "level": "satisfied", "channel": "online"}),
    ("get", "/api/rectifications/C123", None),
    ("post", "/api/rectifications/C123/visit",
     {"department": "health", "officer": "W", "method": "phone", "note": "n"}),
])
def test_unknown_things_are_404(mesh, method, path, body):
    response = getattr(mesh, method)(path, **({"json": body} if body is not None else {}))
    assert response.status_code == 404


@pytest.mark.parametrize("path, params", [
    ("/api/reviews/stats", {"by": "colour"}),
    ("/api/reviews/stats", {"unknown": "1"}),
    ("/api/rectifications", {"state": "lost"}),
    ("/api/rectifications", {"limit": "0"}),
    ("/api/rectifications", {"overdue": "perhaps"}),
])
def test_bad_queries_get_per_field_messages(mesh, path, params):
    response = mesh.get(path, params=params)
    assert response.status_code == 400 and response.json()["fields"]


def test_a_bad_review_is_followed_to_a_closed_rectification_case(client, mesh):
    feedback = mesh.service_url("feedback")
    application_id = decided(client, mesh)
    before = group(mesh, "department", "hrss")
    closed_before = metric(feedback, "feedback_rectification_cases", state="closed")
    reviews_before = metric(feedback, "feedback_reviews_total", department="hrss",
                            level="very_dissatisfied")
    probe = EventProbe(mesh.amqp_uri, "feedback",
                       ["rectification_opened", "rectification_closed", "review_submitted"])
    try:
        bad = review(mesh, application_id, "very_dissatisfied", department="hrss",
                     comment="the social insurance window sent me away twice",
                     tags=["repeated_visits"])
        assert bad.status_code == 201
        case_id = bad.json()["case_id"]
        case = mesh.get(f"/api/rectifications/{case_id}").json()
        assert (case["department"], case["state"], case["level"]) == (
            "hrss", "awaiting_visit", "very_dissatisfied")
        assert case["complaint"]["tags"] == ["repeated_visits"]
        # data/feedback/limits.yaml: Changsha (4301xx) rectifies within 10 working days
        assert case["limits"] == {"return_visit": 1, "confirmation": 5, "rectification":
                                  10 if case["region"].startswith("4301") else 15}
        listed = mesh.get("/api/rectifications", params={"department": "hrss",
                                                         "state": "open"}).json()["cases"]
        assert case_id in [c["id"] for c in listed]

        path = f"/api/rectifications/{case_id}"
        fix = {"department": "hrss", "officer": "Liu Yang", "measures": "one window for "
                                                                         "all insurance"}
        assert mesh.post(path + "/rectify", json=fix).status_code == 409   # visit first
        visit = {"department": "hrss", "officer": "Liu Yang", "method": "phone",
                 "note": "apologised; the rule was misapplied"}
        assert mesh.post(path + "/visit", json=dict(visit, department="health")
                         ).status_code == 403
        visited = mesh.post(path + "/visit", json=visit)
        assert visited.status_code == 200 and visited.json()["visit"]["on_time"] is True
        rectified = mesh.post(path + "/rectify", json=fix)
        assert rectified.json()["state"] == "awaiting_confirmation"

        assert mesh.post(path + "/dispute", json={"applicant_id": STRANGER, "reason": "no"}
                         ).status_code == 403
        disputed = mesh.post(path + "/dispute", json={"applicant_id": ENTERPRISE_ID,
                                                      "reason": "still two windows"})
        assert (disputed.json()["state"], disputed.json()["round"]) == (
            "awaiting_rectification", 2)
        mesh.post(path + "/rectify", json=dict(fix, measures="the second window is closed"))
        confirmed = mesh.post(path + "/confirm", json={"applicant_id": ENTERPRISE_ID,
                                                       "comment": "fixed"})
        assert confirmed.status_code == 200
        assert confirmed.json()["state"] == "closed"
        assert confirmed.json()["confirmation"]["answer"] == "confirmed"
        assert mesh.post(path + "/confirm", json={"applicant_id": ENTERPRISE_ID}
                         ).status_code == 409
        events = probe.wait_for(lambda seen: {"rectification_opened", "rectification_closed"}
                                <= {t for t, p in seen if p.get("case_id") == case_id})
    finally:
        probe.close()
    assert any(t == "review_submitted" and p["review_id"] == bad.json()["id"]
               for t, p in events)

    after = group(mesh, "department", "hrss")
    assert after["levels"]["very_dissatisfied"] == (
        (before["levels"]["very_dissatisfied"] if before else 0) + 1)
    assert set(after["levels"]) == {"very_satisfied", "satisfied", "basically_satisfied",
                                    "dissatisfied", "very_dissatisfied"}
    assert after["rectification"]["closed"] == (
        (before["rectification"]["closed"] if before else 0) + 1)
    assert after["rectification"]["rate"] is not None
    assert after["rectification"]["visit_timeliness"] is not None
    assert after["active_review_rate"] is not None and after["good_review_rate"] is not None

    assert metric(feedback, "feedback_rectification_cases", state="closed") == closed_before + 1
    assert metric(feedback, "feedback_reviews_total", department="hrss",
                  level="very_dissatisfied") == reviews_before + 1
    assert metric(feedback, "feedback_rectification_cases_closed_total", department="hrss",
                  answer="confirmed") >= 1
    assert metric(feedback, "feedback_review_levels", dimension="department", key="hrss",
                  level="very_dissatisfied") == after["levels"]["very_dissatisfied"]
    assert metric(feedback, "feedback_rectification_ratio", dimension="department",
                  key="hrss") == after["rectification"]["rate"]
    assert metric(feedback, "feedback_store_scrape_up") == 1


def test_statistics_by_item_and_scenario_show_all_five_levels(client, mesh):
    application_id = decided(client, mesh)
    before = group(mesh, "item", "HN-SJ-0001")
    assert review(mesh, application_id, "dissatisfied", department="market_regulation",
                  comment="queue too long").status_code == 201
    after = group(mesh, "item", "HN-SJ-0001")
    assert after["levels"]["dissatisfied"] == (before["levels"]["dissatisfied"] if before
                                               else 0) + 1
    scenario = group(mesh, "scenario", "enterprise_startup")
    assert set(scenario["levels"]) == {"very_satisfied", "satisfied", "basically_satisfied",
                                       "dissatisfied", "very_dissatisfied"}
    assert scenario["applications"] >= scenario["reviewed"] + scenario["awaiting_review"]
