"""Once-only through the running mesh: a material that a valid e-licence of the applicant
covers is filled from the licence; a licence that is revoked, someone else's, of the wrong
type or unknown is refused with a clear message. Each applicant uploads, applies, reads
their checklist and wallet with their own token; only an operator revokes."""

import time

import pytest

from onestop.client import ENTERPRISE_ID, PERSON_ID, sample_application

SHARED_FIELDS = {
    "license_id",
    "license_type",
    "type_name",
    "number",
    "holder_name",
    "issuer",
    "issued_at",
    "expires_at",
}
NEWCOMER_ID = "91430100MA4L0AAA2B"  # an enterprise that holds no licence


def later_scenario(client, mesh):
    """A scenario whose checklist asks for a business licence, other than the start-up itself
    when the catalog has one (tax payment, employment, ...)."""
    candidates = []
    for summary in mesh.get("/api/scenarios").json()["scenarios"]:
        scenario = client.scenario(summary["code"])
        if "enterprise" in scenario["applicant_kinds"] and any(
            m["code"] == "business_license" for m in scenario["checklist"]
        ):
            candidates.append(scenario)
    later = [s for s in candidates if s["code"] != "enterprise_startup"]
    later.sort(key=lambda s: s["code"] != "tax_payment")  # the example, when present
    return (later or candidates)[0]


def body_for(client, scenario, holder=ENTERPRISE_ID, kind="enterprise", without=()):
    """An application of `holder`, with a copy the holder uploaded (client.submit then
    applies with the holder's token)."""
    body = sample_application(scenario, client.upload(token=client.token_for(holder)))
    body["applicant"].update(kind=kind, id_number=holder)
    body["materials"] = [m for m in body["materials"] if m["code"] not in without]
    return body


def license_of(client, application_id, license_type, holder=ENTERPRISE_ID, timeout=30):
    """The licence an application produced, from the holder's wallet (their token)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            lic
            for lic in client.licenses(holder)
            if lic["application_id"] == application_id and lic["type"] == license_type
        ]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no {license_type} for {application_id}"
        time.sleep(0.1)


def checklist_of(mesh, code, holder=ENTERPRISE_ID):
    """The checklist as the holder meets it: the holder is the token's."""
    response = mesh.get(f"/api/scenarios/{code}/checklist", headers=mesh.as_("applicant", holder))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def startup(client):
    """An approved start-up: its business licence is in the enterprise's wallet."""
    application_id = client.apply("enterprise_startup")
    assert client.wait_for_decision(application_id)["status"] == "approved"
    return application_id


def test_a_later_application_reuses_the_business_license_instead_of_a_paper_copy(
    client, mesh, startup
):
    issued = license_of(client, startup, "business_license")
    scenario = later_scenario(client, mesh)

    checklist = checklist_of(mesh, scenario["code"])
    # a counter clerk never reads a citizen's licences: naming the holder is refused, and
    # their checklist is the plain one (the citizen shows a licence's id at the counter)
    path = f"/api/scenarios/{scenario['code']}/checklist"
    named = mesh.get(path, params={"holder": ENTERPRISE_ID}, headers=mesh.as_("clerk"))
    assert named.status_code == 403, named.text
    plain = mesh.get(path, headers=mesh.as_("clerk")).json()
    assert plain["holder"] is None and plain["filled_from_licences"] == []
    marked = {m["code"]: m for m in checklist["checklist"]}["business_license"]
    assert marked["provided_by"] == "e_license"
    assert marked["license"]["license_type"] == "business_license"
    assert "business_license" in checklist["filled_from_licences"]
    assert "business_license" not in checklist["to_upload"]

    response = client.submit(body_for(client, scenario, without={"business_license"}))
    assert response.status_code == 202, response.text
    application_id = response.json()["id"]
    view = client.application(application_id).json()
    filled = {m["code"]: m for m in view["materials"]}["business_license"]
    assert filled["source"] == "e_license" and filled["filled"] == "held"
    assert "file_id" not in filled
    # only what the material needs: no ID number, no department data, no signature
    assert set(filled["license"]) == SHARED_FIELDS
    assert filled["license"]["holder_name"] == issued["holder"]["name"]
    used = mesh.get(
        f"/api/licenses/{filled['license_id']}", headers=mesh.as_("applicant", ENTERPRISE_ID)
    ).json()
    assert used["status"] == "valid" and used["holder"]["id_number"] == ENTERPRISE_ID
    assert client.wait_for_decision(application_id)["status"] == "approved"


def test_a_license_named_explicitly_fills_its_material(client, mesh, startup):
    issued = license_of(client, startup, "business_license")
    scenario = later_scenario(client, mesh)
    body = body_for(client, scenario, without={"business_license"})
    body["materials"].append({"code": "business_license", "license_id": issued["id"]})
    response = client.submit(body)
    assert response.status_code == 202, response.text
    view = client.application(response.json()["id"]).json()
    filled = {m["code"]: m for m in view["materials"]}["business_license"]
    assert (filled["license_id"], filled["filled"]) == (issued["id"], "given")


def test_someone_elses_license_is_refused(client, mesh, startup):
    issued = license_of(client, startup, "business_license")
    scenario = client.scenario("enterprise_startup")  # persons may start an enterprise too
    body = body_for(client, scenario, holder=PERSON_ID, kind="person", without={"business_license"})
    body["materials"].append({"code": "business_license", "license_id": issued["id"]})
    response = client.submit(body)
    assert response.status_code == 400
    message = response.json()["fields"]["materials"][str(len(body["materials"]) - 1)]
    assert "belongs to someone else" in message["license_id"][0]


def test_a_revoked_license_is_refused_and_not_used_automatically(client, mesh):
    holder = "91430100MA4L0BBB3C"
    scenario = client.scenario("enterprise_startup")
    first = client.submit(body_for(client, scenario, holder=holder))
    assert client.wait_for_decision(first.json()["id"])["status"] == "approved"
    license = license_of(client, first.json()["id"], "business_license", holder)
    assert (
        mesh.post(
            f"/api/licenses/{license['id']}/revoke",
            json={"reason": "obtained by fraud"},
            headers=mesh.as_("operator"),
        ).status_code
        == 200
    )

    # a later application, whose checklist asks for the business licence (the start-up
    # package issues it itself, so it does not ask for one)
    scenario = later_scenario(client, mesh)
    body = body_for(client, scenario, holder=holder, without={"business_license"})
    body["materials"].append({"code": "business_license", "license_id": license["id"]})
    response = client.submit(body)
    assert response.status_code == 400
    message = response.json()["fields"]["materials"][str(len(body["materials"]) - 1)]
    assert "was revoked" in message["license_id"][0]

    left_out = client.submit(
        body_for(client, scenario, holder=holder, without={"business_license"})
    )
    assert left_out.status_code == 400
    missing = left_out.json()["fields"]["materials"]["missing"]
    assert any("business_license" in m and "upload a copy" in m for m in missing)
    checklist = checklist_of(mesh, scenario["code"], holder)
    assert "business_license" in checklist["to_upload"]


def test_a_license_of_the_wrong_type_unknown_or_for_an_uncovered_material_is_refused(
    client, mesh, startup
):
    issued = license_of(client, startup, "business_license")
    construction = client.scenario("construction_permit")
    uncovered = next(m["code"] for m in construction["checklist"] if not m.get("license_type"))
    body = body_for(client, construction, without={"land_planning_permit", uncovered})
    body["materials"] += [
        {"code": "land_planning_permit", "license_id": issued["id"]},
        {"code": uncovered, "license_id": "L" + "e" * 31},
    ]
    response = client.submit(body)
    assert response.status_code == 400
    errors = response.json()["fields"]["materials"]
    count = len(body["materials"])
    assert "is a business_license" in errors[str(count - 2)]["license_id"][0]
    assert "no e-licence covers" in errors[str(count - 1)]["license_id"][0]

    body = body_for(client, construction, without={"land_planning_permit"})
    body["materials"].append({"code": "land_planning_permit", "license_id": "L" + "e" * 31})
    errors = client.submit(body).json()["fields"]["materials"]
    assert "there is no e-licence" in errors[str(len(body["materials"]) - 1)]["license_id"][0]


def test_a_covered_material_is_missing_for_a_holder_without_the_license(client, mesh):
    scenario = later_scenario(client, mesh)  # one that asks for the business licence
    response = client.submit(
        body_for(client, scenario, holder=NEWCOMER_ID, without={"business_license"})
    )
    assert response.status_code == 400
    missing = response.json()["fields"]["materials"]["missing"]
    assert any("hold no valid business_license" in m for m in missing)


@pytest.mark.parametrize(
    "material, field",
    [
        ({"code": "business_license"}, "file_id"),
        (
            {"code": "business_license", "file_id": "a" * 32, "license_id": "L" + "a" * 31},
            "license_id",
        ),
        ({"code": "business_license", "license_id": "not-a-licence"}, "license_id"),
    ],
)
def test_a_material_must_name_exactly_one_source(client, material, field):
    body = body_for(client, client.scenario("enterprise_startup"), without={"business_license"})
    body["materials"].append(material)
    response = client.submit(body)
    assert response.status_code == 400
    errors = response.json()["fields"]["materials"][str(len(body["materials"]) - 1)]
    assert field in errors


@pytest.mark.parametrize(
    "role, params, status",
    [
        ("clerk", {"holder": "x"}, 400),
        ("applicant", {"holder": "x"}, 400),
        ("applicant", {"holder": ENTERPRISE_ID, "y": "1"}, 400),
        ("applicant", {"holder": NEWCOMER_ID}, 403),  # an applicant only for themselves
    ],
)
def test_the_checklist_needs_a_valid_holder(mesh, role, params, status):
    headers = mesh.as_(role, ENTERPRISE_ID if role == "applicant" else None)
    response = mesh.get(
        "/api/scenarios/enterprise_startup/checklist", params=params, headers=headers
    )
    assert response.status_code == status and response.json()["error"]
    if status == 400:
        assert response.json()["fields"]


def test_the_checklist_of_an_unknown_scenario_is_404(mesh):
    response = mesh.get(
        "/api/scenarios/no_such/checklist", headers=mesh.as_("applicant", ENTERPRISE_ID)
    )
    assert response.status_code == 404
