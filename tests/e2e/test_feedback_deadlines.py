"""Deadlines of reviews, rectification and e-licences, on a mesh of its own whose clock the
test moves (CLOCK_OFFSET_FILE): nothing here waits for real time to pass. Each request
carries its caller's token: the applicant reviews, the department's officer visits and
rectifies, a supervisor reads cases and statistics."""

import pytest

from onestop.client import ENTERPRISE_ID, PERSON_ID, sample_application
from tests.support.event_probe import EventProbe
from tests.support.mesh import start_clocked_mesh
from tests.support.scrape import metric
from tests.support.polling import wait_for

DAY = 86400
FIRST_MOVE = 60 * DAY  # past every review and rectification limit
SECOND_MOVE = 800 * DAY  # past the 730-day validity of planning permits


def post_review(mesh, application_id, level, department=None, applicant=ENTERPRISE_ID):
    """A review as the applicant: who they are comes from their token."""
    body = {"level": level, "channel": "online", "comment": "too slow"}
    if department:
        body["department"] = department
    return mesh.post(
        f"/api/applications/{application_id}/reviews",
        json=body,
        headers=mesh.as_("applicant", applicant),
    )


def reviewable(mesh, application_id, applicant=ENTERPRISE_ID):
    """Wait until feedback knows the decision: the applicant's review of a department that
    took no part is then refused as such (400), not as undecided (409) or unknown (404)."""
    wait_for(
        lambda: (
            post_review(
                mesh, application_id, "satisfied", "no_such_department", applicant
            ).status_code
            == 400
        )
    )


def officer(mesh, department, name, region="430102"):
    """An officer of the office `<department>.<region>` (an office acts for its own cases)."""
    return mesh.as_("officer", office=f"{department}.{region}", name=name)


def supervisor(mesh):
    return mesh.as_("supervisor")


@pytest.fixture(scope="module")
def aged(tmp_path_factory):
    """Applications, reviews and licences made 'today'; then the clock moves 60 days on."""
    mesh = start_clocked_mesh(tmp_path_factory.mktemp("feedback-time"), "fbtime", 200)
    clock = mesh.clock_file
    client = mesh.client()
    feedback_events = EventProbe(
        mesh.amqp_uri, "feedback", ["rectification_overdue", "rectification_closed"]
    )
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
        ignored_case = post_review(mesh, ignored, "dissatisfied", "market_regulation").json()[
            "case_id"
        ]
        answered_case = post_review(mesh, unanswered, "very_dissatisfied", "taxation").json()[
            "case_id"
        ]
        path = f"/api/rectifications/{answered_case}"
        taxation = officer(mesh, "taxation", "Wang")
        assert (
            mesh.post(
                path + "/visit", json={"method": "phone", "note": "called back"}, headers=taxation
            ).status_code
            == 200
        )
        assert (
            mesh.post(
                path + "/rectify", json={"measures": "a second window"}, headers=taxation
            ).status_code
            == 200
        )
        reviewable(mesh, silent, PERSON_ID)
        land_permit = wait_for(
            lambda: next(
                (
                    lic
                    for lic in client.licenses(ENTERPRISE_ID)
                    if lic["application_id"] == project and lic["type"] == "land_planning_permit"
                ),
                None,
            )
        )
        clock.write_text(str(FIRST_MOVE))
        mesh.clock = clock
        yield {
            "mesh": mesh,
            "client": client,
            "ignored_case": ignored_case,
            "answered_case": answered_case,
            "silent": silent,
            "land_permit": land_permit,
            "feedback_events": feedback_events,
            "license_events": license_events,
        }
    finally:
        feedback_events.close()
        license_events.close()
        mesh.stop()


def sweeps(mesh):
    return metric(
        mesh.service_url("feedback"),
        "feedback_entrypoint_calls_total",
        entrypoint="sweep",
        kind="timer",
        outcome="ok",
    )


def test_passed_deadlines_are_published_once_each_and_counted(aged):
    mesh, case_id = aged["mesh"], aged["ignored_case"]
    events = aged["feedback_events"].wait_for(
        lambda seen: (
            {"return_visit", "rectification"}
            <= {p["deadline"] for t, p in seen if p["case_id"] == case_id}
        )
    )
    now = sweeps(mesh)
    wait_for(lambda: sweeps(mesh) >= now + 2)  # later sweeps ran: nothing is sent twice
    events = aged["feedback_events"].drain()
    overdue = [
        p["deadline"] for t, p in events if t == "rectification_overdue" and p["case_id"] == case_id
    ]
    assert sorted(overdue) == ["rectification", "return_visit"]
    feedback = mesh.service_url("feedback")
    for deadline in ("return_visit", "rectification"):
        assert (
            metric(
                feedback,
                "feedback_rectifications_overdue_total",
                department="market_regulation",
                deadline=deadline,
            )
            == 1
        )

    case = mesh.get(f"/api/rectifications/{case_id}", headers=supervisor(mesh)).json()
    assert case["overdue_now"] == ["return_visit", "rectification"]
    assert set(case["overdue"]) == {"return_visit", "rectification"}
    listed = mesh.get(
        "/api/rectifications", params={"overdue": "true"}, headers=supervisor(mesh)
    ).json()["cases"]
    assert [c["id"] for c in listed] == [case_id]

    late = mesh.post(
        f"/api/rectifications/{case_id}/visit",
        json={"method": "in_person", "note": "visited late"},
        headers=officer(mesh, "market_regulation", "Zhao", "430100"),  # a city office's case
    )
    assert late.json()["visit"]["on_time"] is False
    assert late.json()["visit"]["officer"] == "Zhao"
    market = mesh.get(
        "/api/reviews/stats",
        params={"by": "department", "key": "market_regulation"},
        headers=supervisor(mesh),
    ).json()
    rectification = market["groups"][0]["rectification"]
    assert rectification["visit_timeliness"] == 0.0
    assert rectification["rectification_timeliness"] == 0.0
    assert (
        metric(
            feedback,
            "feedback_rectification_timeliness_ratio",
            dimension="department",
            key="market_regulation",
            deadline="return_visit",
        )
        == 0.0
    )


def test_an_application_left_without_a_review_counts_as_not_reviewed_not_good(aged):
    mesh, silent = aged["mesh"], aged["silent"]
    late = mesh.post(
        f"/api/applications/{silent}/reviews",
        json={"level": "very_satisfied", "channel": "online"},
        headers=mesh.as_("applicant", PERSON_ID),
    )
    assert late.status_code == 409 and "window closed" in late.json()["message"]
    feedback = mesh.service_url("feedback")
    wait_for(
        lambda: metric(feedback, "feedback_applications_not_reviewed_total", scenario="birth") == 1
    )
    birth = mesh.get(
        "/api/reviews/stats", params={"by": "scenario", "key": "birth"}, headers=supervisor(mesh)
    ).json()
    group = birth["groups"][0]
    assert (group["applications"], group["reviewed"], group["not_reviewed"]) == (1, 0, 1)
    assert group["good_review_rate"] is None and group["active_review_rate"] == 0.0
    assert (
        metric(
            feedback,
            "feedback_applications_review_state",
            dimension="scenario",
            key="birth",
            state="not_reviewed",
        )
        == 1
    )
    assert (
        metric(feedback, "feedback_active_review_ratio", dimension="scenario", key="birth") == 0.0
    )


def test_a_rectification_the_applicant_leaves_unanswered_is_closed_as_such(aged):
    mesh, case_id = aged["mesh"], aged["answered_case"]
    taxation = officer(mesh, "taxation", "Wang")
    case = wait_for(
        lambda: (
            (c := mesh.get(f"/api/rectifications/{case_id}", headers=taxation).json())["state"]
            == "closed"
            and c
        )
    )
    assert case["confirmation"]["answer"] == "not_answered"
    aged["feedback_events"].wait_for(
        lambda seen: any(t == "rectification_closed" and p["case_id"] == case_id for t, p in seen)
    )
    assert (
        metric(
            mesh.service_url("feedback"),
            "feedback_rectification_cases_closed_total",
            department="taxation",
            answer="not_answered",
        )
        == 1
    )


def test_an_expired_license_is_published_reported_and_refused_for_reuse(aged):
    mesh, license = aged["mesh"], aged["land_permit"]
    mesh.clock.write_text(str(SECOND_MOVE))
    aged["license_events"].wait_for(
        lambda seen: any(p["license_id"] == license["id"] for _, p in seen)
    )
    holder = mesh.as_("applicant", ENTERPRISE_ID)
    assert mesh.get(f"/api/licenses/{license['id']}", headers=holder).json()["status"] == "expired"
    assert mesh.post("/api/licenses/verify", json=license).json()["result"] == "expired"
    license_url = mesh.service_url("license")
    assert (
        metric(license_url, "license_licenses_expired_total", license_type="land_planning_permit")
        == 1
    )
    assert (
        metric(
            license_url, "license_licenses", license_type="land_planning_permit", status="expired"
        )
        == 1
    )

    client = aged["client"]
    scenario = client.scenario("construction_permit")
    body = sample_application(scenario, client.upload(token=client.token_for(ENTERPRISE_ID)))
    assert body["applicant"]["id_number"] == ENTERPRISE_ID  # it applies as the holder
    body["materials"] = [m for m in body["materials"] if m["code"] != "land_planning_permit"]
    body["materials"].append({"code": "land_planning_permit", "license_id": license["id"]})
    response = client.submit(body)
    assert response.status_code == 400
    message = response.json()["fields"]["materials"][str(len(body["materials"]) - 1)]
    assert "expired on" in message["license_id"][0]
    wallet = client.licenses(ENTERPRISE_ID)
    statuses = [lic["status"] for lic in wallet]
    assert statuses == sorted(statuses, key=["valid", "expired", "revoked"].index)
    assert "valid" in statuses and "expired" in statuses
