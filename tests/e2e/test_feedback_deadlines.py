"""Deadlines of reviews, rectification and e-licences, on a mesh of its own whose clock the
test moves (CLOCK_OFFSET_FILE): nothing here waits for real time to pass."""
import time

import pytest

from onestop.client import Client, ENTERPRISE_ID, PERSON_ID, sample_application
from tests.support.event_probe import EventProbe
from tests.support.mesh import Mesh, reset_vhost, PORT_BASE, TEST_VHOST
from tests.support.scrape import metric

DAY = 86400
FIRST_MOVE = 60 * DAY     # past every review and rectification limit
SECOND_MOVE = 800 * DAY   # past the 730-day validity of planning permits


def eventually(check, timeout=30, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(interval)


def post_review(mesh, application_id, level, department=None):
    body = {"applicant_id": ENTERPRISE_ID, "level": level, "channel": "online",
            "comment": "too slow"}
    if department:
        body["department"] = department
    return mesh.post(f"/api/applications/{application_id}/reviews", json=body)


def reviewable(mesh, application_id, applicant=ENTERPRISE_ID):
    """Wait until feedback knows the decision (a stranger is then refused with 403)."""
    stranger = {"applicant_id": "430102198805051234", "level": "satisfied",
                "channel": "online"}
    eventually(lambda: mesh.post(f"/api/applications/{application_id}/reviews",
                                 json=stranger).status_code == 403)


@pytest.fixture(scope="module")
def aged(tmp_path_factory):
    """Applications, reviews and licences made 'today'; then the clock moves 60 days on."""
    data = tmp_path_factory.mktemp("feedback-time")
    clock = data / "clock-offset"
    clock.write_text("0")
    mesh = Mesh(data, reset_vhost(f"{TEST_VHOST}_fbtime"), port_base=PORT_BASE + 200,
                extra_env={"CLOCK_OFFSET_FILE": str(clock)}).start()
    client = mesh.client()
    feedback_events = EventProbe(mesh.amqp_uri, "feedback",
                                 ["rectification_overdue", "rectification_closed"])
    license_events = EventProbe(mesh.amqp_uri, "license", ["license_expired"])
    try:
        ignored = client.apply("enterprise_startup")
        unanswered = client.apply("enterprise_startup")
        silent = client.apply("birth")
        project = client.apply("construction_permit")
        for application_id in (ignored, unanswered, silent, project):
            assert client.wait_for_decision(application_id)["status"] == "approved"
        for application_id in (ignored, unanswered):
            reviewable(mesh, application_id)
        ignored_case = post_review(mesh, ignored, "dissatisfied",
                                   "market_regulation").json()["case_id"]
        answered_case = post_review(mesh, unanswered, "very_dissatisfied",
                                    "taxation").json()["case_id"]
        path = f"/api/rectifications/{answered_case}"
        mesh.post(path + "/visit", json={"department": "taxation", "officer": "Wang",
                                         "method": "phone", "note": "called back"})
        mesh.post(path + "/rectify", json={"department": "taxation", "officer": "Wang",
                                           "measures": "a second window"})
        reviewable(mesh, silent)
        wallet = mesh.get("/api/licenses", params={"holder": ENTERPRISE_ID}).json()["licenses"]
        land_permit = next(lic for lic in wallet if lic["application_id"] == project
                           and lic["type"] == "land_planning_permit")
        clock.write_text(str(FIRST_MOVE))
        mesh.clock = clock
        mesh.client = client
        yield {"mesh": mesh, "ignored_case": ignored_case, "answered_case": answered_case,
               "silent": silent, "land_permit": land_permit,
               "feedback_events": feedback_events, "license_events": license_events}
    finally:
        feedback_events.close()
        license_events.close()
        mesh.stop()


def sweeps(mesh):
    return metric(mesh.service_url("feedback"), "feedback_entrypoint_calls_total",
                  entrypoint="sweep", kind="timer", outcome="ok")


def test_passed_deadlines_are_published_once_each_and_counted(aged):
    mesh, case_id = aged["mesh"], aged["ignored_case"]
    events = aged["feedback_events"].wait_for(lambda seen: {"return_visit", "rectification"}
                                              <= {p["deadline"] for t, p in seen
                                                  if p["case_id"] == case_id})
    now = sweeps(mesh)
    eventually(lambda: sweeps(mesh) >= now + 2)  # later sweeps ran: nothing is sent twice
    events = aged["feedback_events"].drain()
    overdue = [p["deadline"] for t, p in events
               if t == "rectification_overdue" and p["case_id"] == case_id]
    assert sorted(overdue) == ["rectification", "return_visit"]
    feedback = mesh.service_url("feedback")
    for deadline in ("return_visit", "rectification"):
        assert metric(feedback, "feedback_rectifications_overdue_total",
                      department="market_regulation", deadline=deadline) == 1

    case = mesh.get(f"/api/rectifications/{case_id}").json()
    assert case["overdue_now"] == ["return_visit", "rectification"]
    assert set(case["overdue"]) == {"return_visit", "rectification"}
    listed = mesh.get("/api/rectifications", params={"overdue": "true"}).json()["cases"]
    assert [c["id"] for c in listed] == [case_id]

    late = mesh.post(f"/api/rectifications/{case_id}/visit", json={
        "department": "market_regulation", "officer": "Zhao", "method": "in_person",
        "note": "visited late"})
    assert late.json()["visit"]["on_time"] is False
    market = mesh.get("/api/reviews/stats", params={"by": "department",
                                                    "key": "market_regulation"}).json()
    rectification = market["groups"][0]["rectification"]
    assert rectification["visit_timeliness"] == 0.0
    assert rectification["rectification_timeliness"] == 0.0
    assert metric(feedback, "feedback_rectification_timeliness_ratio", dimension="department",
                  key="market_regulation", deadline="return_visit") == 0.0


def test_an_application_left_without_a_review_counts_as_not_reviewed_not_good(aged):
    mesh, silent = aged["mesh"], aged["silent"]
    late = mesh.post(f"/api/applications/{silent}/reviews", json={
        "applicant_id": PERSON_ID, "level": "very_satisfied", "channel": "online"})
    assert late.status_code == 409 and "window closed" in late.json()["message"]
    feedback = mesh.service_url("feedback")
    eventually(lambda: metric(feedback, "feedback_applications_not_reviewed_total",
                              scenario="birth") == 1)
    birth = mesh.get("/api/reviews/stats", params={"by": "scenario", "key": "birth"}).json()
    group = birth["groups"][0]
    assert (group["applications"], group["reviewed"], group["not_reviewed"]) == (1, 0, 1)
    assert group["good_review_rate"] is None and group["active_review_rate"] == 0.0
    assert metric(feedback, "feedback_applications_review_state", dimension="scenario",
                  key="birth", state="not_reviewed") == 1
    assert metric(feedback, "feedback_active_review_ratio", dimension="scenario",
                  key="birth") == 0.0


def test_a_rectification_the_applicant_leaves_unanswered_is_closed_as_such(aged):
    mesh, case_id = aged["mesh"], aged["answered_case"]
    case = eventually(lambda: (c := mesh.get(f"/api/rectifications/{case_id}").json())
                      ["state"] == "closed" and c)
    assert case["confirmation"]["answer"] == "not_answered"
    aged["feedback_events"].wait_for(lambda seen: any(
        t == "rectification_closed" and p["case_id"] == case_id for t, p in seen))
    assert metric(mesh.service_url("feedback"), "feedback_rectification_cases_closed_total",
                  department="taxation", answer="not_answered") == 1


def test_an_expired_licence_is_published_reported_and_refused_for_reuse(aged):
    mesh, licence = aged["mesh"], aged["land_permit"]
    mesh.clock.write_text(str(SECOND_MOVE))
    aged["license_events"].wait_for(lambda seen: any(p["license_id"] == licence["id"]
                                                     for _, p in seen))
    assert mesh.get(f"/api/licenses/{licence['id']}").json()["status"] == "expired"
    assert mesh.post("/api/licenses/verify", json=licence).json()["result"] == "expired"
    license_url = mesh.service_url("license")
    assert metric(license_url, "license_licenses_expired_total",
                  license_type="land_planning_permit") == 1
    assert metric(license_url, "license_licenses", license_type="land_planning_permit",
                  status="expired") == 1

    client = mesh.client
    scenario = client.scenario("construction_permit")
    body = sample_application(scenario, client.upload())
    body["materials"] = [m for m in body["materials"] if m["code"] != "land_planning_permit"]
    body["materials"].append({"code": "land_planning_permit", "license_id": licence["id"]})
    response = client.submit(body)
    assert response.status_code == 400
    message = response.json()["fields"]["materials"][str(len(body["materials"]) - 1)]
    assert "expired on" in message["license_id"][0]
    wallet = mesh.get("/api/licenses", params={"holder": ENTERPRISE_ID}).json()["licenses"]
    statuses = [lic["status"] for lic in wallet]
    assert statuses == sorted(statuses, key=["valid", "expired", "revoked"].index)
    assert "valid" in statuses and "expired" in statuses
