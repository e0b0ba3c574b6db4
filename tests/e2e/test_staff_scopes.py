"""Attacks on who acts for whom (issue 14), against the running mesh. Each test is an attack
the security review found; it fails if the hole reopens.

- a counter clerk acts only inside their counter's region, only on what they submitted, and
  never reviews, follows up, confirms, disputes or reads a wallet in a citizen's name;
- a supervisor with a region reads only that region; an officer acts for their office
  (`<department>.<region>`), not for the whole department;
- an upload is its uploader's; an Idempotency-Key is its caller's."""

import uuid

import pytest

from onestop.client import PERSON_ID, sample_application
from onestop.common.tokens import mint
from tests.e2e.test_feedback import decided, officer, review

STRANGER = "430102198505050021"  # another applicant
COUNTER = "430102"  # Furong district: the sample applications' region
ELSEWHERE = "430111"  # Yuhua district, another county of Changsha


def clerk(mesh, sub="clerk-0042", region=COUNTER):
    return mesh.as_("clerk", sub, region=region)


def token_of(headers):
    return headers["Authorization"].split(" ", 1)[1]


def body_for(client, headers, **kwargs):
    """A birth application for PERSON_ID whose materials are the caller's own upload."""
    scan = client.upload(token=token_of(headers))
    return sample_application(client.scenario("birth"), scan, **kwargs)


def submit(mesh, headers, body, key=None):
    return mesh.post(
        "/api/applications",
        json=body,
        headers=dict(headers, **{"Idempotency-Key": key or uuid.uuid4().hex}),
    )


@pytest.fixture(scope="module")
def at_counter(client, mesh):
    """An application clerk-0042 submitted at the Furong counter."""
    response = submit(mesh, clerk(mesh), body_for(client, clerk(mesh), channel="counter"))
    assert response.status_code == 202, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def reviewable(client, mesh):
    """A decided birth application of PERSON_ID that feedback knows."""
    return decided(client, mesh, code="birth", applicant=PERSON_ID)


# -- counter clerks ----------------------------------------------------------------------
def test_a_clerk_applies_only_inside_their_counters_region(client, mesh):
    headers = clerk(mesh)
    outside = submit(mesh, headers, body_for(client, headers, channel="counter", region=ELSEWHERE))
    assert outside.status_code == 403, outside.text
    assert outside.json()["fields"] == {"region": [f"outside your counter's region {COUNTER}"]}
    city_counter = clerk(mesh, "clerk-0050", region="430100")  # Changsha city holds Yuhua
    inside = submit(
        mesh, city_counter, body_for(client, city_counter, channel="counter", region=ELSEWHERE)
    )
    assert inside.status_code == 202, inside.text
    no_region = {  # a clerk token minted without a counter region
        "Authorization": "Bearer " + mint("clerk", "clerk-0051", key=mesh.env["AUTH_SIGNING_KEY"])
    }
    refused = submit(mesh, no_region, body_for(client, no_region, channel="counter"))
    assert refused.status_code == 403 and "region" in refused.json()["fields"]


def test_a_clerk_works_only_on_what_they_submitted(mesh, at_counter):
    path = f"/api/applications/{at_counter}"
    other = clerk(mesh, "clerk-0043")
    assert mesh.get(path, headers=other).status_code == 404
    assert mesh.get(path + "/history", headers=other).status_code == 404
    assert (
        mesh.post(path + "/corrections", json={"materials": []}, headers=other).status_code == 404
    )
    assert mesh.post(path + "/withdraw", json={}, headers=other).status_code == 404
    # the same clerk moved to another counter no longer reaches it either
    moved = clerk(mesh, region="430200")
    assert mesh.get(path, headers=moved).status_code == 404
    listed = mesh.get("/api/applications", headers=moved).json()["applications"]
    assert at_counter not in {a["id"] for a in listed}
    listed = mesh.get("/api/applications", headers=clerk(mesh)).json()["applications"]
    assert at_counter in {a["id"] for a in listed}
    assert mesh.get(path, headers=clerk(mesh)).status_code == 200
    # its own clerk reaches it (withdrawn, or 409 when the departments decided already)
    assert mesh.post(path + "/withdraw", json={}, headers=clerk(mesh)).status_code in (202, 409)


def test_a_clerk_never_reviews_or_closes_cases_in_a_citizens_name(mesh, reviewable):
    headers = clerk(mesh)
    good = {"level": "very_satisfied", "channel": "counter"}
    for body in (good, dict(good, applicant_id=PERSON_ID)):
        filed = mesh.post(f"/api/applications/{reviewable}/reviews", json=body, headers=headers)
        assert filed.status_code == 403, filed.text
        assert "in a citizen's name" in filed.json()["message"]
    # the citizen's own review still goes in: the clerk took nothing from them
    own = review(
        mesh,
        reviewable,
        "very_dissatisfied",
        applicant=PERSON_ID,
        department="health",
        comment="the desk lost my papers",
    )
    assert own.status_code == 201, own.text
    review_id, case_id = own.json()["id"], own.json()["case_id"]
    refused = [
        mesh.post(f"/api/reviews/{review_id}/follow-up", json=step, headers=headers)
        for step in ({"level": "satisfied", "channel": "counter", "applicant_id": PERSON_ID},)
    ] + [
        mesh.post(f"/api/rectifications/{case_id}/{step}", json=body, headers=headers)
        for step, body in (
            ("confirm", {"applicant_id": PERSON_ID}),
            ("dispute", {"applicant_id": PERSON_ID, "reason": "not fixed"}),
        )
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    case = mesh.get(f"/api/rectifications/{case_id}", headers=mesh.as_("applicant", PERSON_ID))
    assert case.json()["state"] == "awaiting_visit"  # nobody moved it


def test_a_clerk_never_reads_a_citizens_licences(client, mesh, reviewable):
    headers = clerk(mesh)
    wallet = mesh.get("/api/licenses", params={"holder": PERSON_ID}, headers=headers)
    assert wallet.status_code == 403
    licences = client.wait_for_licenses(PERSON_ID, reviewable, 1)
    assert licences, "the birth application issued no licence"
    assert mesh.get(f"/api/licenses/{licences[0]['id']}", headers=headers).status_code == 404
    checklist = mesh.get(
        "/api/scenarios/birth/checklist", params={"holder": PERSON_ID}, headers=headers
    )
    assert checklist.status_code == 403


# -- supervisors and officers ------------------------------------------------------------
def test_a_supervisor_with_a_region_reads_only_that_region(client, mesh, reviewable):
    # Hengyang: a city no test applies in (Zhuzhou has the all-scenarios test's applications)
    hengyang = mesh.as_("supervisor", "supervisor-0430", region="430400")
    changsha = mesh.as_("supervisor", "supervisor-0431", region="430100")
    path = f"/api/applications/{reviewable}"
    assert mesh.get(path, headers=hengyang).status_code == 404
    assert mesh.get(path + "/history", headers=hengyang).status_code == 404
    assert mesh.get(path + "/reviews", headers=hengyang).status_code == 404
    assert mesh.get(path, headers=changsha).status_code == 200
    listed = mesh.get("/api/applications", params={"applicant": PERSON_ID}, headers=hengyang)
    assert listed.status_code == 200 and listed.json()["applications"] == []
    listed = mesh.get("/api/applications", params={"applicant": PERSON_ID}, headers=changsha)
    assert reviewable in {a["id"] for a in listed.json()["applications"]}
    wallet = mesh.get("/api/licenses", params={"holder": PERSON_ID}, headers=hengyang)
    assert wallet.status_code == 200 and wallet.json()["licenses"] == []
    # statistics and rectification listings: only the region's reviews and cases
    assert mesh.get("/api/reviews/stats", headers=hengyang).json()["groups"] == []
    assert mesh.get("/api/rectifications", headers=hengyang).json()["cases"] == []
    stats = mesh.get("/api/reviews/stats", params={"by": "scenario"}, headers=changsha).json()
    assert "birth" in {g["key"] for g in stats["groups"]}


def test_an_officer_acts_for_their_office_not_the_whole_department(mesh, reviewable):
    own = review(
        mesh,
        reviewable,
        "dissatisfied",
        applicant=PERSON_ID,
        department="public_security",
        comment="sent between two windows",
    )
    assert own.status_code == 201, own.text
    case_id = own.json()["case_id"]
    path = f"/api/rectifications/{case_id}"
    yuhua = officer(mesh, "public_security", "Zhao", region=ELSEWHERE)
    furong = officer(mesh, "public_security", "Qian", region=COUNTER)
    assert mesh.get(path, headers=yuhua).status_code == 404
    listed = mesh.get("/api/rectifications", headers=yuhua).json()["cases"]
    assert case_id not in {c["id"] for c in listed}
    visit = {"method": "phone", "note": "called back"}
    refused = mesh.post(path + "/visit", json=visit, headers=yuhua)
    assert refused.status_code == 403
    assert f"public_security.{COUNTER}" in refused.json()["message"]
    reviews = mesh.get(f"/api/applications/{reviewable}/reviews", headers=yuhua)
    assert reviews.status_code == 404
    assert mesh.get(path, headers=furong).status_code == 200
    assert mesh.post(path + "/visit", json=visit, headers=furong).status_code == 200


# -- uploads and idempotency keys --------------------------------------------------------
def test_someone_elses_upload_cannot_be_attached(client, mesh):
    mine = mesh.as_("applicant", PERSON_ID)
    body = body_for(client, mine)  # PERSON_ID's upload
    thief = mesh.as_("applicant", STRANGER)
    stolen = dict(body, applicant=dict(body["applicant"], id_number=STRANGER))
    response = submit(mesh, thief, stolen)
    assert response.status_code == 400, response.text
    problems = response.json()["fields"]["materials"]
    code = body["materials"][0]["code"]
    assert problems["0"]["file_id"][0].startswith(f"{code}: no upload of yours")
    by_clerk = submit(mesh, clerk(mesh), dict(body, channel="counter"))
    assert by_clerk.status_code == 400  # a clerk neither: they scan it themselves
    assert submit(mesh, mine, body).status_code == 202  # the uploader may


def test_an_idempotency_key_is_the_callers_own(client, mesh):
    key = uuid.uuid4().hex
    applicant, at_desk = mesh.as_("applicant", PERSON_ID), clerk(mesh)
    online = body_for(client, applicant)
    counter = body_for(client, at_desk, channel="counter")
    first = submit(mesh, applicant, online, key)
    second = submit(mesh, at_desk, counter, key)  # same key, another caller: a new one
    assert first.status_code == second.status_code == 202, (first.text, second.text)
    assert first.json()["id"] != second.json()["id"]
    replayed = submit(mesh, applicant, online, key)
    assert replayed.json()["id"] == first.json()["id"]
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    assert submit(mesh, at_desk, counter, key).json()["id"] == second.json()["id"]
    other_clerk = clerk(mesh, "clerk-0044")
    third = submit(mesh, other_clerk, body_for(client, other_clerk, channel="counter"), key)
    assert third.status_code == 202 and third.json()["id"] not in {
        first.json()["id"],
        second.json()["id"],
    }
