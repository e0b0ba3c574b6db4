"""GET /api/applications: each caller finds their own applications again, newest first, a
page at a time; nobody lists someone else's."""

import random
import time
import uuid

import pytest

from onestop.client import sample_application


def new_person():
    return "430102" + "".join(random.choices("0123456789", k=11)) + "X"


def submit(mesh, client, code, holder, headers=None, **kwargs):
    headers = headers or mesh.as_("applicant", holder)
    token = headers["Authorization"].split(" ", 1)[1]  # the submitter uploads their own files
    body = sample_application(client.scenario(code), client.upload(token=token), **kwargs)
    body["applicant"]["id_number"] = holder
    response = mesh.post(
        "/api/applications",
        json=body,
        headers=dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}),
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def listed(mesh, headers, **params):
    response = mesh.get("/api/applications", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def holder(mesh, client):
    """A person with three applications: two births (one held by a department), a marriage."""
    person = new_person()
    ids = [
        submit(mesh, client, "birth", person),
        submit(mesh, client, "birth", person, name="Hold health"),
        submit(mesh, client, "marriage", person),
    ]
    deadline = time.monotonic() + 30
    while (
        mesh.get(f"/api/applications/{ids[0]}", headers=mesh.as_("applicant", person)).json()[
            "decision"
        ]
        is None
    ):
        assert time.monotonic() < deadline, "no decision in 30 s"
        time.sleep(0.1)
    return person, ids


def test_an_applicant_lists_their_own_applications_newest_first(mesh, client, holder):
    person, ids = holder
    page = listed(mesh, mesh.as_("applicant", person))
    assert [a["id"] for a in page["applications"]] == ids[::-1]
    assert page["next_offset"] is None
    first = page["applications"][-1]
    assert first["scenario"] == "birth" and first["status"] == "approved"
    assert first["outcome"] == "approved" and first["decided_at"]
    assert first["status_url"] == f"/api/applications/{ids[0]}"
    # the same from Python
    assert [a["id"] for a in client.applications(person, scenario="birth")["applications"]] == [
        ids[1],
        ids[0],
    ]
    # nobody else's: another applicant's list does not show them
    other = listed(mesh, mesh.as_("applicant", new_person()))
    assert other == {"limit": 50, "offset": 0, "next_offset": None, "applications": []}


def test_filters_and_pages(mesh, holder):
    person, ids = holder
    mine = mesh.as_("applicant", person)
    births = listed(mesh, mine, scenario="birth")
    assert [a["id"] for a in births["applications"]] == [ids[1], ids[0]]
    approved = listed(mesh, mine, status="approved", scenario="birth")
    assert [a["id"] for a in approved["applications"]] == [ids[0]]
    first = listed(mesh, mine, limit=2)
    assert first["next_offset"] == 2
    last = listed(mesh, mine, limit=2, offset=first["next_offset"])
    assert last["next_offset"] is None
    assert [a["id"] for p in (first, last) for a in p["applications"]] == ids[::-1]


def test_a_clerk_lists_what_they_submitted_and_staff_list_anyones(mesh, client):
    person = new_person()
    online = submit(mesh, client, "birth", person)
    clerk = mesh.as_("clerk", f"clerk-{uuid.uuid4().hex[:8]}")
    at_counter = submit(mesh, client, "birth", person, headers=clerk, channel="counter")
    assert [a["id"] for a in listed(mesh, clerk)["applications"]] == [at_counter]
    for role in ("supervisor", "operator"):
        everything = listed(mesh, mesh.as_(role), applicant=person)
        assert [a["id"] for a in everything["applications"]] == [at_counter, online]
    # a clerk whose staff id were someone's ID number still sees only their counter work
    namesake = mesh.as_("clerk", person)
    assert listed(mesh, namesake)["applications"] == []


def test_bad_queries_and_roles_are_refused_with_reasons(mesh, holder):
    person, _ = holder
    mine = mesh.as_("applicant", person)
    bad = mesh.get(
        "/api/applications", headers=mine, params={"status": "lost", "limit": "0", "colour": "red"}
    )
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"status", "limit", "colour"}
    twice = mesh.get("/api/applications?limit=2&limit=abc", headers=mine)
    assert twice.status_code == 400 and set(twice.json()["fields"]) == {"limit"}
    someone_else = mesh.get("/api/applications", headers=mine, params={"applicant": new_person()})
    assert someone_else.status_code == 403
    assert (
        mesh.get(
            "/api/applications", headers=mesh.as_("officer", office="health.430102")
        ).status_code
        == 403
    )
    assert mesh.get("/api/applications").status_code == 401
