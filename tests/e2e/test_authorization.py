"""Who may do what, for every endpoint of the public API (issue 5): no token is a 401,
the wrong role a 403, someone else's resource a 404 (its existence must not leak)."""

import uuid

import pytest

from onestop.client import ENTERPRISE_ID, PERSON_ID, sample_application

OTHER = "430102198505050021"  # another applicant, who guesses ids
OPEN_PATHS = [
    ("GET", "/api/scenarios"),
    ("GET", "/api/scenarios/birth"),
    ("GET", "/api/regions"),
    ("GET", "/api/items"),
    ("GET", "/api/departments"),
    ("GET", "/api/calendar"),
    ("GET", "/api/catalog/versions"),
    ("GET", "/api/licenses/keys"),
    ("GET", "/.well-known/license-keys.json"),
]


@pytest.fixture(scope="module")
def decided(client, mesh):
    """An approved enterprise start-up (with its licences) and a birth application."""
    startup = client.apply("enterprise_startup")
    birth = client.apply("birth")
    client.wait_for_decision(startup)
    client.wait_for_decision(birth)
    license = client.wait_for_licenses(ENTERPRISE_ID, startup, 1)[0]
    return {"startup": startup, "birth": birth, "licence": license["id"]}


def call(mesh, method, path, headers=None, **kwargs):
    if method == "GET":
        return mesh.get(path, headers=headers, **kwargs)
    return mesh.post(path, headers=headers, **kwargs)


def protected(decided):
    """(method, path, body) of every endpoint that needs a token."""
    birth, license = decided["birth"], decided["licence"]
    return [
        ("POST", "/api/uploads", None),
        ("POST", "/api/applications", {}),
        ("GET", "/api/applications", None),
        ("GET", f"/api/applications/{birth}", None),
        ("GET", f"/api/applications/{birth}/history", None),
        ("POST", f"/api/applications/{birth}/corrections", {"materials": []}),
        ("POST", f"/api/applications/{birth}/withdraw", {}),
        ("POST", f"/api/applications/{birth}/reviews", {"level": "satisfied", "channel": "online"}),
        ("GET", f"/api/applications/{birth}/reviews", None),
        ("POST", f"/api/reviews/{uuid.uuid4().hex}/follow-up", {}),
        ("GET", "/api/reviews/stats", None),
        ("GET", "/api/rectifications", None),
        ("GET", f"/api/rectifications/{uuid.uuid4().hex}", None),
        ("POST", f"/api/rectifications/{uuid.uuid4().hex}/visit", {}),
        ("POST", f"/api/rectifications/{uuid.uuid4().hex}/rectify", {}),
        ("POST", f"/api/rectifications/{uuid.uuid4().hex}/confirm", {}),
        ("POST", f"/api/rectifications/{uuid.uuid4().hex}/dispute", {}),
        ("GET", f"/api/licenses?holder={PERSON_ID}", None),
        ("GET", f"/api/licenses/{license}", None),
        ("POST", f"/api/licenses/{license}/revoke", {"reason": "test"}),
        ("GET", "/api/supervision/overdue", None),
        ("GET", "/api/officer/tasks", None),
        ("POST", f"/api/officer/tasks/{birth}:X/decision", {"decision": "approved"}),
        ("GET", "/api/scenarios/birth/checklist", None),
    ]


def test_every_protected_endpoint_refuses_a_missing_or_bad_token(mesh, decided):
    forged = {"Authorization": "Bearer " + mesh.token("operator")[:-4] + "AAAA"}
    for method, path, body in protected(decided):
        for headers in (None, forged, {"Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="}):
            response = call(mesh, method, path, headers=headers, json=body)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["error"] == "unauthorized"
            assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_open_endpoints_need_no_token(mesh):
    for method, path in OPEN_PATHS:
        assert call(mesh, method, path).status_code == 200, path


@pytest.mark.parametrize(
    "method, path, role",
    [
        ("POST", "/api/uploads", "officer"),
        ("POST", "/api/applications", "supervisor"),
        ("GET", "/api/reviews/stats", "applicant"),
        ("GET", "/api/rectifications", "applicant"),
        ("GET", "/api/supervision/overdue", "applicant"),
        ("GET", "/api/supervision/overdue", "officer"),
        ("GET", "/api/officer/tasks", "applicant"),
        ("GET", "/api/officer/tasks", "supervisor"),
    ],
)
def test_a_role_that_may_not_call_an_endpoint_gets_403(mesh, method, path, role):
    response = call(mesh, method, path, headers=mesh.as_(role), json={})
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"


def test_revoking_a_license_is_for_operators(mesh, decided):
    path = f"/api/licenses/{decided['licence']}/revoke"
    for role, sub in (("applicant", ENTERPRISE_ID), ("clerk", None), ("supervisor", None)):
        response = mesh.post(path, json={"reason": "x"}, headers=mesh.as_(role, sub))
        assert response.status_code == 403, (role, response.text)


def test_another_applicant_guessing_ids_learns_nothing(mesh, decided):
    other = mesh.as_("applicant", OTHER)
    birth = decided["birth"]
    for method, path, body in [
        ("GET", f"/api/applications/{birth}", None),
        ("GET", f"/api/applications/{birth}/history", None),
        ("POST", f"/api/applications/{birth}/withdraw", {}),
        (
            "POST",
            f"/api/applications/{birth}/corrections",
            {"materials": [{"code": "x", "file_id": "0" * 32}]},
        ),
        ("POST", f"/api/applications/{birth}/reviews", {"level": "satisfied", "channel": "online"}),
        ("GET", f"/api/applications/{birth}/reviews", None),
        ("GET", f"/api/licenses/{decided['licence']}", None),
    ]:
        mine = call(mesh, method, path, headers=other, json=body)
        unknown = call(
            mesh,
            method,
            path.replace(birth, uuid.uuid4().hex).replace(
                decided["licence"], "L" + uuid.uuid4().hex[:31]
            ),
            headers=other,
            json=body,
        )
        assert mine.status_code == unknown.status_code == 404, (path, mine.text)
    # and another applicant's wallet or checklist is refused outright
    assert mesh.get("/api/licenses", params={"holder": PERSON_ID}, headers=other).status_code == 403
    assert (
        mesh.get(
            "/api/scenarios/birth/checklist", params={"holder": PERSON_ID}, headers=other
        ).status_code
        == 403
    )


def test_the_owner_and_staff_may_read_an_application(mesh, decided):
    birth = decided["birth"]
    for headers in (mesh.as_("applicant"), mesh.as_("supervisor"), mesh.as_("operator")):
        assert mesh.get(f"/api/applications/{birth}", headers=headers).status_code == 200
        assert mesh.get(f"/api/applications/{birth}/history", headers=headers).status_code == 200
    # an officer of an office that holds one of its tasks, not of another office
    assert (
        mesh.get(
            f"/api/applications/{birth}", headers=mesh.as_("officer", office="health.430102")
        ).status_code
        == 200
    )
    assert (
        mesh.get(
            f"/api/applications/{birth}", headers=mesh.as_("officer", office="taxation.430102")
        ).status_code
        == 404
    )
    # a clerk who did not submit it does not see it
    assert mesh.get(f"/api/applications/{birth}", headers=mesh.as_("clerk")).status_code == 404


def test_applicants_apply_for_themselves_and_clerks_at_the_counter(client, mesh):
    scenario = client.scenario("birth")
    file_id = client.upload()
    body = sample_application(scenario, file_id)

    def submit(headers, payload):
        return mesh.post(
            "/api/applications",
            json=payload,
            headers=dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}),
        )

    assert submit(mesh.as_("applicant", OTHER), body).status_code == 403  # impersonation
    assert submit(mesh.as_("applicant"), dict(body, channel="counter")).status_code == 403
    assert submit(mesh.as_("clerk"), body).status_code == 403  # clerks use the counter
    scan = client.upload(token=mesh.token("clerk", "clerk-0042", region="430102"))
    materials = [dict(m, file_id=scan) for m in body["materials"]]  # the clerk's own scan
    at_counter = submit(
        mesh.as_("clerk", "clerk-0042"), dict(body, channel="counter", materials=materials)
    )
    assert at_counter.status_code == 202, at_counter.text
    application_id = at_counter.json()["id"]
    # the clerk who submitted it and its applicant may read it; another clerk may not
    assert (
        mesh.get(
            f"/api/applications/{application_id}", headers=mesh.as_("clerk", "clerk-0042")
        ).status_code
        == 200
    )
    assert (
        mesh.get(f"/api/applications/{application_id}", headers=mesh.as_("applicant")).status_code
        == 200
    )
    assert (
        mesh.get(
            f"/api/applications/{application_id}", headers=mesh.as_("clerk", "clerk-0043")
        ).status_code
        == 404
    )


def test_an_officer_sees_only_their_own_departments_rectification_cases(mesh):
    listing = mesh.get(
        "/api/rectifications",
        params={"department": "taxation"},
        headers=mesh.as_("officer", office="health.430102"),
    )
    assert listing.status_code == 403
    own = mesh.get("/api/rectifications", headers=mesh.as_("officer", office="health.430102"))
    assert own.status_code == 200
    assert all(case["department"] == "health" for case in own.json()["cases"])
