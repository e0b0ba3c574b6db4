"""docs/openapi.yaml is true of the running API.

Every documented operation is driven through the running mesh with realistic
requests (a real upload, a real "birth" application and its decision, a review,
a licence from the applicant's wallet, ...) and also with the bad input a client
gets wrong. Every response must have a status the document lists for that
operation and a body valid against the documented schema. The schemas are
checked by openapi-schema-validator (OpenAPI 3.0 dialect: `nullable`, $ref
resolved through a `referencing` registry of the whole document), not by hand.

The gateway's ROUTES and the document's paths are compared both ways, so a
route cannot be added without its documentation, nor documented without a route.
"""

import json
import re
import uuid
from pathlib import Path

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from onestop.client import ENTERPRISE_ID, PERSON_ID, SAMPLE_PDF, sample_application
from services.gateway.app import ROUTES
from tests.support.polling import wait_for

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
SPEC = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
SPEC_URI = "urn:onestop:openapi"
REGISTRY = Registry().with_resource(
    SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT4)
)
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
STRANGER = "430102198805051234"  # a well-formed ID number that is not the applicant


def pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def documented_operations():
    return {
        (method.upper(), path)
        for path, item in SPEC["paths"].items()
        for method in item
        if method in METHODS
    }


def resolve(node):
    """Follow a $ref (e.g. to #/components/responses/...) to the object it names."""
    while isinstance(node, dict) and "$ref" in node:
        node = REGISTRY.resolver(SPEC_URI).lookup(node["$ref"]).contents
    return node


def schema_errors(validator_class, schema_pointer, instance):
    validator = validator_class(
        {"$ref": f"{SPEC_URI}#/{schema_pointer}"},
        registry=REGISTRY,
        format_checker=oas30_format_checker,
    )
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def conformance_errors(method, template, response, request_json=None):
    """What is untrue of the document for this response to (method, template)."""
    operation = SPEC["paths"][template][method.lower()]
    responses = operation["responses"]
    status = str(response.status_code)
    key = (
        status
        if status in responses
        else f"{status[0]}XX"
        if (f"{status[0]}XX" in responses)
        else "default"
        if "default" in responses
        else None
    )
    if key is None:
        return [
            f"status {status} is not documented (documented: {sorted(responses)}); "
            f"body {response.text[:300]}"
        ]
    errors = []
    content = resolve(responses[key]).get("content")
    if content:
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media not in content:
            return [f"{status}: Content-Type {media!r} is not documented ({sorted(content)})"]
        if not media.endswith("json"):
            return []  # a file (a material's PDF or image): its documented type is all to check
        try:
            body = response.json()
        except ValueError:
            return [f"{status}: body is not JSON: {response.text[:300]}"]
        response_pointer = pointer("paths", template, method.lower(), "responses", key)
        if "$ref" in responses[key]:
            response_pointer = responses[key]["$ref"].lstrip("#/")
        schema_pointer = f"{response_pointer}/content/{pointer(media)}/schema"
        errors += [
            f"{status} body: {e}" for e in schema_errors(OAS30ReadValidator, schema_pointer, body)
        ]
    if request_json is not None and response.status_code < 300:
        # a request the server accepted, sent as a client following the document would:
        # the document must not call it invalid
        request_pointer = (
            pointer("paths", template, method.lower(), "requestBody", "content")
            + "/"
            + pointer("application/json")
            + "/schema"
        )
        errors += [
            f"accepted request body: {e}"
            for e in schema_errors(OAS30WriteValidator, request_pointer, request_json)
        ]
    return errors


class Api:
    """The running mesh, seen through the document: every response is checked.

    Calls carry the token of `as_`: a role ("applicant" is the sample applicant PERSON_ID),
    a (role, sub, claims) tuple, or None for no token at all."""

    def __init__(self, mesh):
        self.mesh = mesh
        self.session = requests.Session()
        self.seen = {}

    def call(self, method, template, path_params=None, as_="applicant", **kwargs):
        path = template.format(**(path_params or {}))
        if as_ is not None:
            role, sub, claims = (as_, None, {}) if isinstance(as_, str) else (as_ + ({},))[:3]
            kwargs["headers"] = dict(
                kwargs.get("headers") or {}, **self.mesh.as_(role, sub, **claims)
            )
        response = self.session.request(method, self.mesh.base + path, timeout=30, **kwargs)
        self.seen.setdefault((method, template), []).append(response.status_code)
        errors = conformance_errors(method, template, response, kwargs.get("json"))
        assert not errors, f"{method} {path}:\n  " + "\n  ".join(errors)
        return response

    def status(self, method, template, path_params=None, as_="applicant", **kwargs):
        return self.call(method, template, path_params, as_, **kwargs).status_code


@pytest.fixture(scope="module")
def api(mesh):
    return Api(mesh)


def wait_for_status(api, application_id, statuses, as_="applicant"):
    def view():
        found = api.call(
            "GET", "/api/applications/{application_id}", {"application_id": application_id}, as_
        ).json()
        return found if found["status"] in statuses else None

    return wait_for(view, f"{application_id} to become one of {statuses}")


def apply(api, code, name="Li Hua", **kwargs):
    """Apply as the scenario's sample applicant; the id, the body, the scenario and who."""
    scenario = api.call("GET", "/api/scenarios/{code}", {"code": code}, None).json()
    body = sample_application(scenario, "0" * 32, name=name, **kwargs)
    applicant = ("applicant", body["applicant"]["id_number"])
    file_id = api.call(
        "POST",
        "/api/uploads",
        as_=applicant,
        files={"file": ("scan.pdf", SAMPLE_PDF, "application/pdf")},
    ).json()["file_id"]
    for material in body["materials"]:
        material["file_id"] = file_id
    response = api.call(
        "POST",
        "/api/applications",
        as_=applicant,
        json=body,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 202, response.text
    return response.json()["id"], body, scenario, applicant


def decided_with_licenses(api, code):
    """A real application of scenario code, approved, with every licence it yields issued."""
    application_id, body, scenario, applicant = apply(api, code)
    view = wait_for_status(api, application_id, {"approved", "rejected"}, applicant)
    assert view["status"] == "approved", view
    expected = sum(1 for i in scenario["items"] if i.get("license_type") and not i["optional"])

    def issued():
        wallet = api.call("GET", "/api/licenses", as_=applicant).json()
        mine = [lic for lic in wallet["licenses"] if lic.get("application_id") == application_id]
        return mine if len(mine) == expected else None

    licenses = wait_for(issued, f"the {expected} licences of {application_id}")
    return {
        "id": application_id,
        "body": body,
        "view": view,
        "licences": licenses,
        "scenario": scenario,
        "applicant": applicant,
    }


@pytest.fixture(scope="module")
def birth(api):
    """A real "birth" application of PERSON_ID, approved, with its licences issued."""
    return decided_with_licenses(api, "birth")


@pytest.fixture(scope="module")
def startup(api):
    """A real "enterprise_startup" application, approved: its business licence is reusable."""
    return decided_with_licenses(api, "enterprise_startup")


REVIEWS = "/api/applications/{application_id}/reviews"
FOLLOW_UP = "/api/reviews/{review_id}/follow-up"
CASE = "/api/rectifications/{case_id}"
HEALTH_OFFICER = ("officer", None, {"office": "health.430102"})


@pytest.fixture(scope="module")
def reviewed(api, birth):
    """The birth application reviewed as a whole (good) and its health department (bad):
    the bad review opens a rectification case."""
    target = {"application_id": birth["id"]}
    wait_for(lambda: api.status("GET", REVIEWS, target) == 200, "feedback to hear of the decision")
    good = {
        "level": "satisfied",
        "channel": "mobile",
        "comment": "one form instead of four",
        "tags": ["fast"],
    }
    # 409 until feedback has heard of the decision too (it learns it from an event)
    whole = wait_for(
        lambda: (r := api.call("POST", REVIEWS, target, json=good)).status_code != 409 and r,
        "feedback to know the application is decided",
    )
    assert whole.status_code == 201, whole.text
    bad = api.call(
        "POST",
        REVIEWS,
        target,
        json={
            "applicant_id": PERSON_ID,
            "level": "very_dissatisfied",
            "channel": "online",
            "department": "health",
            "comment": "the hospital desk sent me away twice",
        },
    )
    assert bad.status_code == 201 and bad.json()["case_id"], bad.text
    return {"whole": whole.json(), "bad": bad.json(), "case_id": bad.json()["case_id"]}


# -- one realistic exercise per documented operation ----------------------------
CASES = {}


def case(method, template):
    def register(func):
        CASES[(method, template)] = func
        return func

    return register


@case("GET", "/api/scenarios")
def _scenarios(api, fixture):
    listing = api.call("GET", "/api/scenarios", as_=None).json()  # open: no token needed
    assert listing["scenarios"] and listing["catalog_version"] >= 1
    for audience in ("individual", "enterprise", "project"):
        only = api.call("GET", "/api/scenarios", params={"audience": audience}).json()
        assert only["scenarios"] and {s["audience"] for s in only["scenarios"]} == {audience}
    found = api.call(
        "GET", "/api/scenarios", params={"q": "birth", "department": "health", "level": "county"}
    ).json()
    assert all("health" in s["departments"] for s in found["scenarios"])
    version = listing["catalog_version"]
    assert api.status("GET", "/api/scenarios", params={"version": version}) == 200
    assert api.status("GET", "/api/scenarios", params={"audience": "martians"}) == 400
    assert api.status("GET", "/api/scenarios", params={"department": "no_such"}) == 400
    assert api.status("GET", "/api/scenarios", params={"version": 999999}) == 404


@case("GET", "/api/scenarios/{code}")
def _scenario(api, fixture):
    codes = [s["code"] for s in api.call("GET", "/api/scenarios").json()["scenarios"]]
    for code in codes:  # every scenario of the catalog, not only one
        shown = api.call("GET", "/api/scenarios/{code}", {"code": code}, None).json()
        assert shown["code"] == code
    version = fixture("birth")["view"]["catalog_version"]
    pinned = api.call(
        "GET", "/api/scenarios/{code}", {"code": "birth"}, params={"version": version}
    )
    assert pinned.json()["catalog_version"] == version
    birth = {"code": "birth"}
    assert api.status("GET", "/api/scenarios/{code}", birth, params={"version": "latest"}) == 400
    assert api.status("GET", "/api/scenarios/{code}", birth, params={"version": 999999}) == 404
    assert api.status("GET", "/api/scenarios/{code}", {"code": "no_such_thing"}) == 404


@case("GET", "/api/scenarios/{code}/checklist")
def _checklist(api, fixture):
    fixture("birth"), fixture("startup")
    path = "/api/scenarios/{code}/checklist"
    provided = set()
    for summary in api.call("GET", "/api/scenarios").json()["scenarios"]:
        holder = PERSON_ID if "person" in summary["applicant_kinds"] else ENTERPRISE_ID
        listing = api.call("GET", path, {"code": summary["code"]}, as_=("applicant", holder)).json()
        assert listing["holder"] == holder
        provided |= {m["provided_by"] for m in listing["checklist"]}
    assert "e_license" in provided and "upload" in provided  # the licences above fill some
    # a counter clerk never reads a citizen's licences: the plain checklist, naming one is 403
    assert api.call("GET", path, {"code": "birth"}, "clerk").json()["holder"] is None
    clerk = api.status("GET", path, {"code": "birth"}, "clerk", params={"holder": PERSON_ID})
    assert clerk == 403
    assert api.status("GET", path, {"code": "birth"}, params={"holder": "nobody"}) == 400
    assert api.status("GET", path, {"code": "birth"}, params={"holder": STRANGER}) == 403
    assert api.status("GET", path, {"code": "birth"}, "supervisor") == 403
    assert api.status("GET", path, {"code": "birth"}, None) == 401
    assert api.status("GET", path, {"code": "no_such_thing"}) == 404


@case("GET", "/api/scenarios/{code}/form")
def _form(api, fixture):
    form = api.call("GET", "/api/scenarios/{code}/form", {"code": "birth"}, None).json()
    assert form["type"] == "object" and form["properties"]
    assert (
        api.status("GET", "/api/scenarios/{code}/form", {"code": "birth"}, params={"version": "x"})
        == 400
    )
    assert api.status("GET", "/api/scenarios/{code}/form", {"code": "no_such_thing"}) == 404


@case("GET", "/api/scenarios/{code}/plan")
def _plan(api, fixture):
    path = "/api/scenarios/{code}/plan"
    scenario = api.call("GET", "/api/scenarios/{code}", {"code": "construction_permit"}).json()
    optional = [i["code"] for i in scenario["items"] if i["optional"]]
    plan = api.call(
        "GET",
        path,
        {"code": "construction_permit"},
        None,
        params={"region": "430102", "start": "2026-09-30", "optional": ",".join(optional)},
    ).json()
    assert {t["item_code"] for t in plan["tasks"]} == {i["code"] for i in scenario["items"]}
    assert api.status("GET", path, {"code": "birth"}, params={"region": "430102"}) == 200
    assert api.status("GET", path, {"code": "birth"}) == 400
    assert api.status("GET", path, {"code": "birth"}, params={"region": "430000"}) == 400
    assert (
        api.status(
            "GET", path, {"code": "birth"}, params={"region": "430102", "optional": "NO-SUCH-ITEM"}
        )
        == 400
    )
    assert (
        api.status("GET", path, {"code": "birth"}, params={"region": "430102", "start": "someday"})
        == 400
    )
    assert api.status("GET", path, {"code": "no_such_thing"}, params={"region": "430102"}) == 404


@case("GET", "/api/scenarios/{code}/guide")
def _guide(api, fixture):
    path = "/api/scenarios/{code}/guide"
    for summary in api.call("GET", "/api/scenarios").json()["scenarios"]:  # every package
        whole = api.call("GET", path, {"code": summary["code"]}, None).json()
        assert all(i["guide"]["conditions"] for i in whole["items"])
    township = api.call(
        "GET",
        path,
        {"code": "special_groups"},
        None,
        params={"region": "430121001", "optional": "HN-MZ-0007"},
    ).json()
    assert township["optional_items"] == ["HN-MZ-0007"]
    assert api.status("GET", path, {"code": "birth"}, params={"region": "430100"}) == 400
    assert api.status("GET", path, {"code": "birth"}, params={"optional": "NO-SUCH"}) == 400
    assert api.status("GET", path, {"code": "no_such_thing"}) == 404


@case("GET", "/api/items")
def _items(api, fixture):
    page = api.call("GET", "/api/items", as_=None, params={"limit": 500}).json()
    assert page["total"] == len(page["items"]) and page["items"]
    health = api.call(
        "GET",
        "/api/items",
        params={
            "department": "health",
            "level": "county",
            "audience": "individual",
            "limit": 5,
            "offset": 1,
        },
    ).json()
    assert all(i["department"] == "health" for i in health["items"])
    assert api.status("GET", "/api/items", params={"scenario": "birth", "q": "birth"}) == 200
    assert api.status("GET", "/api/items", params={"limit": 0}) == 400
    assert api.status("GET", "/api/items", params={"level": "village"}) == 400
    assert api.status("GET", "/api/items", params={"version": 999999}) == 404


@case("GET", "/api/search")
def _search(api, fixture):
    found = api.call("GET", "/api/search", as_=None, params={"q": "生孩子要办什么"}).json()
    assert found["results"][0]["code"] == "birth" and found["results"][0]["items"]
    empty = api.call("GET", "/api/search", as_=None, params={"q": "明天天气预报"}).json()
    assert empty["results"] == [] and empty["hint"]
    assert api.status("GET", "/api/search", params={"q": "登记", "limit": 26, "offset": 3}) == 200
    assert api.status("GET", "/api/search") == 400
    assert api.status("GET", "/api/search", params={"q": "我" * 101}) == 400
    assert api.status("GET", "/api/search", params={"q": "生孩子", "limit": 27}) == 400
    assert api.status("GET", "/api/search", params={"q": "生孩子", "version": 999999}) == 404


@case("GET", "/api/items/{code}")
def _item(api, fixture):
    code = api.call("GET", "/api/items", params={"limit": 1}).json()["items"][0]["code"]
    assert api.call("GET", "/api/items/{code}", {"code": code}, None).json()["code"] == code
    assert api.status("GET", "/api/items/{code}", {"code": code}, params={"version": "x"}) == 400
    assert api.status("GET", "/api/items/{code}", {"code": "NO-SUCH-ITEM"}) == 404


@case("GET", "/api/departments")
def _departments(api, fixture):
    listing = api.call("GET", "/api/departments", as_=None).json()
    assert "health" in {d["code"] for d in listing["departments"]}
    assert api.status("GET", "/api/departments", params={"version": "x"}) == 400
    assert api.status("GET", "/api/departments", params={"version": 999999}) == 404


@case("GET", "/api/departments/{code}")
def _department(api, fixture):
    for department in api.call("GET", "/api/departments").json()["departments"]:
        code = department["code"]
        shown = api.call("GET", "/api/departments/{code}", {"code": code}, None).json()
        assert shown["code"] == code
    assert (
        api.status("GET", "/api/departments/{code}", {"code": "health"}, params={"version": "x"})
        == 400
    )
    assert api.status("GET", "/api/departments/{code}", {"code": "no_such"}) == 404


@case("GET", "/api/calendar")
def _calendar(api, fixture):
    calendar = api.call("GET", "/api/calendar", as_=None).json()
    assert calendar["years"] and calendar["holidays"]
    assert api.status("GET", "/api/calendar", params={"version": "x"}) == 400
    assert api.status("GET", "/api/calendar", params={"version": 999999}) == 404


@case("GET", "/api/regions")
def _regions(api, fixture):
    everything = api.call("GET", "/api/regions", as_=None).json()["regions"]
    assert {r["level"] for r in everything} == {"province", "city", "county", "township"}
    cities = api.call("GET", "/api/regions", params={"level": "city"}).json()["regions"]
    assert cities and all(r["level"] == "city" for r in cities)
    counties = api.call("GET", "/api/regions", params={"parent": cities[0]["code"]}).json()
    assert all(r["parent"] == cities[0]["code"] for r in counties["regions"])


@case("GET", "/api/catalog/versions")
def _versions(api, fixture):
    versions = api.call("GET", "/api/catalog/versions", as_=None).json()["versions"]
    assert [v["current"] for v in versions].count(True) == 1


@case("GET", "/api/catalog/versions/{old}/diff/{new}")
def _diff(api, fixture):
    path = "/api/catalog/versions/{old}/diff/{new}"
    numbers = sorted(
        v["version"] for v in api.call("GET", "/api/catalog/versions").json()["versions"]
    )
    diff = api.call("GET", path, {"old": numbers[0], "new": numbers[-1]}, None).json()
    assert (diff["from"], diff["to"]) == (numbers[0], numbers[-1])
    assert api.status("GET", path, {"old": "first", "new": numbers[-1]}) == 400
    assert api.status("GET", path, {"old": 0, "new": numbers[-1]}) == 400
    assert api.status("GET", path, {"old": numbers[0], "new": 999999}) == 404


@case("POST", "/api/uploads")
def _uploads(api, fixture):
    stored = api.call("POST", "/api/uploads", files={"file": ("child.png", PNG, "image/png")})
    assert stored.status_code == 201 and stored.json()["size"] == len(PNG)
    pdf = {"file": ("a.pdf", SAMPLE_PDF, "application/pdf")}
    assert api.status("POST", "/api/uploads", as_="clerk", files=pdf) == 201
    assert api.status("POST", "/api/uploads", as_=None, files=pdf) == 401
    assert api.status("POST", "/api/uploads", as_="supervisor", files=pdf) == 403
    assert (
        api.status(
            "POST", "/api/uploads", files={"other": ("a.pdf", SAMPLE_PDF, "application/pdf")}
        )
        == 400
    )
    assert (
        api.status(
            "POST", "/api/uploads", files={"file": ("fake.pdf", b"MZ not a pdf", "application/pdf")}
        )
        == 400
    )
    assert (
        api.status("POST", "/api/uploads", files={"file": ("notes.txt", b"hello", "text/plain")})
        == 415
    )
    assert api.status("POST", "/api/uploads", json={"file": "x"}) == 415
    too_big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 8192)
    assert (
        api.status("POST", "/api/uploads", files={"file": ("huge.pdf", too_big, "application/pdf")})
        == 413
    )


@case("POST", "/api/applications")
def _applications(api, fixture):
    birth = fixture("birth")
    body = sample_application(birth["scenario"], birth["body"]["materials"][0]["file_id"])
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.call("POST", "/api/applications", json=body, headers=key)
    again = api.call("POST", "/api/applications", json=body, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    changed = dict(body, channel="mobile")
    assert api.status("POST", "/api/applications", json=changed, headers=key) == 409
    assert api.status("POST", "/api/applications", json=body) == 400  # no Idempotency-Key

    def fresh():
        return {"Idempotency-Key": uuid.uuid4().hex}

    counter = dict(body, channel="counter")
    # an upload belongs to its uploader: the clerk's own scan, not the applicant's upload
    assert (
        api.status("POST", "/api/applications", as_="clerk", json=counter, headers=fresh()) == 400
    )
    pdf = {"file": ("scan.pdf", SAMPLE_PDF, "application/pdf")}
    scan = api.call("POST", "/api/uploads", as_="clerk", files=pdf).json()["file_id"]
    counter["materials"] = [dict(m, file_id=scan) for m in body["materials"]]
    assert (
        api.status("POST", "/api/applications", as_="clerk", json=counter, headers=fresh()) == 202
    )  # a counter clerk applies for the applicant
    assert api.status("POST", "/api/applications", json=counter, headers=fresh()) == 403
    assert (
        api.status(
            "POST", "/api/applications", as_=("applicant", STRANGER), json=body, headers=fresh()
        )
        == 403
    )
    assert api.status("POST", "/api/applications", as_=None, json=body, headers=fresh()) == 401
    bad = dict(body, region="999999", channel="fax", unexpected=True)
    response = api.call("POST", "/api/applications", json=bad, headers=fresh())
    assert response.status_code == 400 and {"channel", "unexpected"} <= set(
        response.json()["fields"]
    )
    assert (
        api.status(
            "POST", "/api/applications", json=dict(body, scenario="no_such_thing"), headers=fresh()
        )
        == 400
    )
    assert api.status("POST", "/api/applications", json=[body], headers=fresh()) == 400
    assert (
        api.status(
            "POST",
            "/api/applications",
            data="{not json",
            headers=dict(fresh(), **{"Content-Type": "application/json"}),
        )
        == 400
    )
    assert (
        api.status(
            "POST",
            "/api/applications",
            data=json.dumps(body),
            headers=dict(fresh(), **{"Content-Type": "text/plain"}),
        )
        == 415
    )


@case("GET", "/api/applications")
def _application_list(api, fixture):
    birth = fixture("birth")
    mine = api.call(
        "GET",
        "/api/applications",
        as_=birth["applicant"],
        params={"scenario": "birth", "limit": 200},
    ).json()
    line = next(a for a in mine["applications"] if a["id"] == birth["id"])
    assert line["outcome"] == "approved" and line["status_url"].endswith(birth["id"])
    holder = birth["applicant"][1]
    staff = api.call(
        "GET",
        "/api/applications",
        as_="supervisor",
        params={"applicant": holder, "status": "approved", "limit": 1},
    ).json()
    assert len(staff["applications"]) == 1 and staff["applications"][0]["status"] == "approved"
    assert api.status("GET", "/api/applications", params={"status": "lost"}) == 400
    assert (
        api.status(
            "GET", "/api/applications", as_=("applicant", STRANGER), params={"applicant": holder}
        )
        == 403
    )
    assert api.status("GET", "/api/applications", as_=HEALTH_OFFICER) == 403
    assert api.status("GET", "/api/applications", as_=None) == 401


@case("GET", "/api/applications/{application_id}")
def _application(api, fixture):
    birth = fixture("birth")
    path, target = "/api/applications/{application_id}", {"application_id": birth["id"]}
    view = api.call("GET", path, target).json()
    assert view["decision"]["outcome"] == "approved"
    assert api.status("GET", path, target, "supervisor") == 200
    assert api.status("GET", path, target, ("applicant", STRANGER)) == 404  # nothing leaks
    assert api.status("GET", path, target, None) == 401
    assert api.status("GET", path, {"application_id": uuid.uuid4().hex}) == 404
    # an application in progress: the decision is null and tasks are still open
    held = apply(api, "birth", name="Hold health")[0]
    assert wait_for_status(api, held, {"in_review"})["decision"] is None
    # a rejected one: each department's outcome and reason
    rejected = apply(api, "birth", name="Reject public_security")[0]
    view = wait_for_status(api, rejected, {"rejected"})
    assert {d["outcome"] for d in view["decision"]["departments"]} >= {"rejected", "cancelled"}


@case("GET", "/api/applications/{application_id}/history")
def _history(api, fixture):
    path, target = (
        "/api/applications/{application_id}/history",
        {"application_id": fixture("birth")["id"]},
    )
    history = api.call("GET", path, target).json()
    assert history["status"] == "approved" and history["history"]
    assert api.status("GET", path, target, ("applicant", STRANGER)) == 404
    assert api.status("GET", path, target, None) == 401
    assert api.status("GET", path, {"application_id": uuid.uuid4().hex}) == 404


@case("POST", "/api/applications/{application_id}/corrections")
def _corrections(api, fixture):
    file_id = fixture("birth")["body"]["materials"][0]["file_id"]
    application_id = apply(api, "birth", name="Correct health")[0]
    view = wait_for_status(api, application_id, {"awaiting_correction"})
    asking = next(t for t in view["tasks"] if t["state"] == "correction_required")
    target = {"application_id": application_id}
    path = "/api/applications/{application_id}/corrections"
    supplied = {
        "materials": [{"code": code, "file_id": file_id} for code in asking["requested_materials"]]
    }
    assert api.status("POST", path, target, json={"materials": []}) == 400
    assert (
        api.status("POST", path, target, data="materials", headers={"Content-Type": "text/plain"})
        == 415
    )
    assert (
        api.status(
            "POST", path, target, json={"materials": [{"code": "eia_report", "file_id": file_id}]}
        )
        == 400
    )
    assert api.status("POST", path, target, None, json=supplied) == 401
    assert api.status("POST", path, target, "supervisor", json=supplied) == 403
    assert api.status("POST", path, target, ("applicant", STRANGER), json=supplied) == 404
    accepted = api.call("POST", path, target, json=supplied)
    assert accepted.status_code == 202 and accepted.json()["tasks"] == [asking["task_id"]]
    assert wait_for_status(api, application_id, {"approved"})["decision"]
    assert api.status("POST", path, target, json=supplied) == 409
    assert api.status("POST", path, {"application_id": uuid.uuid4().hex}, json=supplied) == 404


@case("POST", "/api/applications/{application_id}/withdraw")
def _withdraw(api, fixture):
    application_id = apply(api, "birth", name="Hold medical_security")[0]
    wait_for_status(api, application_id, {"in_review"})
    target = {"application_id": application_id}
    path = "/api/applications/{application_id}/withdraw"
    assert api.status("POST", path, target, json={"reason": ""}) == 400
    assert api.status("POST", path, target, json={"why": "x"}) == 400
    assert (
        api.status(
            "POST",
            path,
            target,
            data="reason=moved",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        == 415
    )
    assert api.status("POST", path, target, None, json={}) == 401
    assert api.status("POST", path, target, "operator", json={}) == 403
    assert api.status("POST", path, target, ("applicant", STRANGER), json={}) == 404
    accepted = api.call("POST", path, target, json={"reason": "moving to another province"})
    assert accepted.status_code == 202
    view = wait_for_status(api, application_id, {"withdrawn"})
    assert view["decision"]["outcome"] == "withdrawn"
    assert api.status("POST", path, target) == 409  # no body is allowed too
    assert api.status("POST", path, {"application_id": fixture("birth")["id"]}, json={}) == 409
    assert api.status("POST", path, {"application_id": uuid.uuid4().hex}) == 404


@case("GET", "/api/supervision/overdue")
def _overdue(api, fixture):
    # the tasks held above are not overdue yet (listing one needs a moved clock: that is
    # test_workflow_paths.py's supervision test); the listing's shape is still checked
    listing = api.call("GET", "/api/supervision/overdue", as_="supervisor").json()
    assert listing["total"] == sum(g["count"] for g in listing["groups"])
    only = api.call(
        "GET", "/api/supervision/overdue", as_="operator", params={"department": "health"}
    ).json()
    assert all(g["department"] == "health" for g in only["groups"])
    assert api.status("GET", "/api/supervision/overdue", as_=None) == 401
    assert api.status("GET", "/api/supervision/overdue", as_="applicant") == 403


def held_officer_task(api):
    """A birth application whose health task waits for an officer ("Hold health"), and
    that task's office's officer."""
    application_id = apply(api, "birth", name="Hold health")[0]

    def sent_health_task():
        view = api.call(
            "GET", "/api/applications/{application_id}", {"application_id": application_id}
        ).json()
        return next(
            (t for t in view["tasks"] if t["department"] == "health" and t["state"] == "sent"), None
        )

    task = wait_for(sent_health_task, "the held health task to be sent")
    return dict(task, application_id=application_id), (
        "officer",
        "officer-0001",
        {"office": task["office"]},
    )


@case("GET", "/api/officer/tasks")
def _officer_tasks(api, fixture):
    task, officer = held_officer_task(api)
    listing = api.call("GET", "/api/officer/tasks", as_=officer).json()
    assert task["task_id"] in {t["task_id"] for t in listing["tasks"]}
    assert api.status("GET", "/api/officer/tasks", as_=None) == 401
    assert api.status("GET", "/api/officer/tasks", as_="applicant") == 403


@case("POST", "/api/officer/tasks/{task_id}/decision")
def _officer_decision(api, fixture):
    task, officer = held_officer_task(api)
    path, target = "/api/officer/tasks/{task_id}/decision", {"task_id": task["task_id"]}
    approve = {"decision": "approved", "data": {"reference_number": "BY-HAND"}}
    assert api.status("POST", path, target, None, json=approve) == 401
    assert api.status("POST", path, target, "applicant", json=approve) == 403
    assert api.status("POST", path, target, officer, json={"decision": "rejected"}) == 400
    assert api.status("POST", path, target, officer, data="decision=approved") == 415
    assert (
        api.status(
            "POST", path, {"task_id": f"{uuid.uuid4().hex}:HN-WJ-0001"}, officer, json=approve
        )
        == 404
    )
    assert api.status("POST", path, target, officer, json=approve) == 202
    wait_for_status(api, task["application_id"], {"approved"})
    assert api.status("POST", path, target, officer, json=approve) == 409


@case("GET", "/api/applications/{application_id}/reviews")
def _reviews_of(api, fixture):
    reviewed, birth = fixture("reviewed"), fixture("birth")
    target = {"application_id": birth["id"]}
    listing = api.call("GET", REVIEWS, target).json()
    assert {r["target"] for r in listing["reviews"]} == {"service_center", "health"}
    assert reviewed["whole"]["id"] in {r["id"] for r in listing["reviews"]}
    assert api.status("GET", REVIEWS, target, HEALTH_OFFICER) == 200
    assert api.status("GET", REVIEWS, target, ("applicant", STRANGER)) == 404
    assert api.status("GET", REVIEWS, target, None) == 401
    assert api.status("GET", REVIEWS, {"application_id": uuid.uuid4().hex}) == 404


@case("POST", "/api/applications/{application_id}/reviews")
def _review(api, fixture):
    reviewed, birth = fixture("reviewed"), fixture("birth")
    target = {"application_id": birth["id"]}
    good = {"level": "satisfied", "channel": "online"}
    assert reviewed["whole"]["target"] == "service_center" and reviewed["bad"]["bad"] is True
    assert api.status("POST", REVIEWS, target, json=good) == 409  # once per target
    assert api.status("POST", REVIEWS, target, json=dict(good, applicant_id=STRANGER)) == 403
    assert api.status("POST", REVIEWS, target, "officer", json=good) == 403
    assert api.status("POST", REVIEWS, target, None, json=good) == 401
    assert api.status("POST", REVIEWS, target, json=dict(good, level="good")) == 400
    assert api.status("POST", REVIEWS, target, json=dict(good, level="dissatisfied")) == 400
    assert api.status("POST", REVIEWS, target, data="level=good") == 415
    assert api.status("POST", REVIEWS, {"application_id": uuid.uuid4().hex}, json=good) == 404
    hrss = dict(good, department="hrss", level="very_satisfied")
    # nobody reviews in a citizen's name, a counter clerk neither
    assert (
        api.status("POST", REVIEWS, target, "clerk", json=dict(hrss, applicant_id=PERSON_ID)) == 403
    )
    by_applicant = api.call("POST", REVIEWS, target, json=hrss)
    assert by_applicant.status_code == 201 and by_applicant.json()["target"] == "hrss"


@case("POST", "/api/reviews/{review_id}/follow-up")
def _follow_up(api, fixture):
    whole = fixture("reviewed")["whole"]
    target = {"review_id": whole["id"]}
    body = {"level": "very_satisfied", "channel": "sms"}
    assert api.status("POST", FOLLOW_UP, target, json=dict(body, level="great")) == 400
    assert api.status("POST", FOLLOW_UP, target, json=dict(body, applicant_id=STRANGER)) == 403
    assert api.status("POST", FOLLOW_UP, target, "supervisor", json=body) == 403
    assert api.status("POST", FOLLOW_UP, target, None, json=body) == 401
    assert (
        api.status("POST", FOLLOW_UP, target, data="x", headers={"Content-Type": "text/plain"})
        == 415
    )
    followed = api.call("POST", FOLLOW_UP, target, json=body)
    assert followed.status_code == 201 and followed.json()["effective_level"] == "very_satisfied"
    assert api.status("POST", FOLLOW_UP, target, json=body) == 409  # one follow-up
    assert api.status("POST", FOLLOW_UP, {"review_id": "no-such-review"}, json=body) == 404


@case("GET", "/api/reviews/stats")
def _stats(api, fixture):
    fixture("reviewed")
    for by, key in (("department", "health"), ("scenario", "birth"), ("item", None)):
        stats = api.call(
            "GET",
            "/api/reviews/stats",
            as_="supervisor",
            params={"by": by, **({"key": key} if key else {})},
        ).json()
        assert stats["by"] == by and stats["groups"]
    assert api.status("GET", "/api/reviews/stats", as_="operator") == 200
    assert api.status("GET", "/api/reviews/stats", as_="supervisor", params={"by": "colour"}) == 400
    assert api.status("GET", "/api/reviews/stats", as_="supervisor", params={"unknown": "1"}) == 400
    assert api.status("GET", "/api/reviews/stats", as_="applicant") == 403
    assert api.status("GET", "/api/reviews/stats", as_=None) == 401


@case("GET", "/api/statistics")
def _published_statistics(api, fixture):
    fixture("reviewed")
    for params in ({}, {"month": "2026-03"}, {"from": "2026-01", "to": "2026-12"}):
        assert api.status("GET", "/api/statistics", as_=None, params=params) == 200
    filters = {"department": "health", "region": "430100", "channel": "online"}
    assert api.call("GET", "/api/statistics", as_=None, params=filters).json()["months"] is not None
    assert api.status("GET", "/api/statistics", as_=None, params={"month": "2026-13"}) == 400
    assert api.status("GET", "/api/statistics", as_=None, params={"region": "439999"}) == 400
    assert api.status("GET", "/api/statistics", as_=None, params={"department": "nobody"}) == 400


@case("GET", "/api/rectifications")
def _cases(api, fixture):
    case_id = fixture("reviewed")["case_id"]
    listed = api.call(
        "GET",
        "/api/rectifications",
        as_="supervisor",
        params={"department": "health", "state": "open"},
    ).json()["cases"]
    assert case_id in {c["id"] for c in listed}
    own = api.call("GET", "/api/rectifications", as_=HEALTH_OFFICER).json()["cases"]
    assert case_id in {c["id"] for c in own} and {c["department"] for c in own} == {"health"}
    assert (
        api.status(
            "GET", "/api/rectifications", as_=HEALTH_OFFICER, params={"department": "taxation"}
        )
        == 403
    )
    assert (
        api.status(
            "GET", "/api/rectifications", as_="operator", params={"overdue": "true", "limit": 5}
        )
        == 200
    )
    assert (
        api.status("GET", "/api/rectifications", as_="supervisor", params={"state": "lost"}) == 400
    )
    assert api.status("GET", "/api/rectifications", as_="supervisor", params={"limit": 0}) == 400
    assert api.status("GET", "/api/rectifications", as_="applicant") == 403
    assert api.status("GET", "/api/rectifications", as_=None) == 401


@case("GET", "/api/rectifications/{case_id}")
def _case(api, fixture):
    target = {"case_id": fixture("reviewed")["case_id"]}
    found = api.call("GET", CASE, target).json()  # the applicant who complained
    assert found["id"] == target["case_id"] and found["department"] == "health"
    assert api.status("GET", CASE, target, HEALTH_OFFICER) == 200
    assert api.status("GET", CASE, target, ("applicant", STRANGER)) == 404
    assert api.status("GET", CASE, target, None) == 401
    assert api.status("GET", CASE, {"case_id": "no-such-case"}, "supervisor") == 404


@pytest.fixture(scope="module")
def rectified(api, reviewed):
    """The rectification case followed to its end by the health officer and the applicant:
    visit, rectify, dispute, rectify, confirm; each refusal on the way too."""
    target, nowhere = {"case_id": reviewed["case_id"]}, {"case_id": "no-such-case"}
    officer = HEALTH_OFFICER
    visit = {"method": "phone", "note": "apologised; the desk misapplied the rule"}
    fix = {"measures": "one desk for births"}
    for step, body in (("/visit", visit), ("/rectify", fix)):
        assert api.status("POST", CASE + step, target, None, json=body) == 401
        assert api.status("POST", CASE + step, target, "applicant", json=body) == 403
        assert (
            api.status("POST", CASE + step, target, officer, json=dict(body, department="taxation"))
            == 403
        )
        assert api.status("POST", CASE + step, target, officer, data="x") == 415
        assert api.status("POST", CASE + step, nowhere, officer, json=body) == 404
    assert api.status("POST", CASE + "/rectify", target, officer, json=fix) == 409  # visit first
    assert (
        api.status("POST", CASE + "/visit", target, officer, json=dict(visit, method="pigeon"))
        == 400
    )
    assert api.status("POST", CASE + "/visit", target, "operator", json=visit) == 400  # who?
    visited = api.call("POST", CASE + "/visit", target, officer, json=visit).json()
    assert visited["state"] == "awaiting_rectification"
    assert api.status("POST", CASE + "/visit", target, officer, json=visit) == 409
    assert api.status("POST", CASE + "/rectify", target, officer, json={"measures": ""}) == 400
    rectified = api.call(
        "POST",
        CASE + "/rectify",
        target,
        "operator",
        json=dict(fix, department="health", officer="Wang Fang"),
    ).json()
    assert rectified["state"] == "awaiting_confirmation"
    dispute = {"reason": "still two desks"}
    confirm = {"comment": "fixed"}
    for step, body in (("/dispute", dispute), ("/confirm", confirm)):
        assert api.status("POST", CASE + step, target, None, json=body) == 401
        assert api.status("POST", CASE + step, target, officer, json=body) == 403
        assert (
            api.status("POST", CASE + step, target, json=dict(body, applicant_id=STRANGER)) == 403
        )
        assert api.status("POST", CASE + step, target, data="x") == 415
        assert api.status("POST", CASE + step, nowhere, json=body) == 404
    assert api.status("POST", CASE + "/dispute", target, json={"reason": ""}) == 400
    disputed = api.call("POST", CASE + "/dispute", target, json=dispute).json()
    assert (disputed["state"], disputed["round"]) == ("awaiting_rectification", 2)
    assert api.status("POST", CASE + "/dispute", target, json=dispute) == 409
    api.call("POST", CASE + "/rectify", target, officer, json={"measures": "one desk closed"})
    assert api.status("POST", CASE + "/confirm", target, json={"comment": 5}) == 400
    assert (
        api.status(
            "POST", CASE + "/confirm", target, "clerk", json=dict(confirm, applicant_id=PERSON_ID)
        )
        == 403
    )  # not even at the counter: the applicant confirms themselves
    closed = api.call("POST", CASE + "/confirm", target, json=confirm).json()
    assert closed["state"] == "closed"
    assert api.status("POST", CASE + "/confirm", target, json=confirm) == 409
    return closed


for _step in ("visit", "rectify", "confirm", "dispute"):
    case("POST", f"{CASE}/{_step}")(lambda api, fixture: fixture("rectified"))


@case("GET", "/api/licenses")
def _wallet(api, fixture):
    fixture("birth")
    wallet = api.call("GET", "/api/licenses").json()  # an applicant's own, from the token
    assert wallet["holder"] == PERSON_ID and wallet["licenses"]
    named = api.call("GET", "/api/licenses", as_="supervisor", params={"holder": PERSON_ID})
    assert [lic["id"] for lic in named.json()["licenses"]] == [
        lic["id"] for lic in wallet["licenses"]
    ]
    assert api.status("GET", "/api/licenses", as_="supervisor") == 400  # name the holder
    assert api.status("GET", "/api/licenses", params={"holder": "nobody"}) == 400
    assert api.status("GET", "/api/licenses", params={"holder": STRANGER}) == 403
    assert api.status("GET", "/api/licenses", as_="officer") == 403
    assert api.status("GET", "/api/licenses", as_=None) == 401


@case("GET", "/api/licenses/keys")
def _keys(api, fixture):
    keys = api.call("GET", "/api/licenses/keys", as_=None).json()["keys"]
    assert fixture("birth")["licences"][0]["key_id"] in {k["kid"] for k in keys}


@case("POST", "/api/licenses/verify")
def _verify(api, fixture):
    license = fixture("birth")["licences"][0]
    path = "/api/licenses/verify"
    assert api.call("POST", path, as_=None, json=license).json()["result"] == "valid"
    forged = dict(license, number=license["number"] + "0")
    assert api.call("POST", path, json=forged).json()["result"] == "forged"
    assert api.status("POST", path, json={"id": license["id"]}) == 400
    assert api.status("POST", path, json=[license]) == 400
    assert (
        api.status("POST", path, data=json.dumps(license), headers={"Content-Type": "text/plain"})
        == 415
    )


@case("GET", "/api/licenses/{license_id}")
def _license(api, fixture):
    target = {"license_id": fixture("birth")["licences"][0]["id"]}
    shown = api.call("GET", "/api/licenses/{license_id}", target).json()
    assert shown["id"] == target["license_id"] and shown["status"] == "valid"
    assert api.status("GET", "/api/licenses/{license_id}", target, "clerk") == 404
    assert api.status("GET", "/api/licenses/{license_id}", target, ("applicant", STRANGER)) == 404
    assert api.status("GET", "/api/licenses/{license_id}", target, None) == 401
    assert api.status("GET", "/api/licenses/{license_id}", {"license_id": "no-such"}) == 404


@case("GET", "/api/licenses/{license_id}/verification")
def _public_verification(api, fixture):
    license = fixture("birth")["licences"][0]
    path = "/api/licenses/{license_id}/verification"
    verdict = api.call("GET", path, {"license_id": license["id"]}, None).json()
    assert verdict["result"] == "valid" and verdict["license"]["number"] == license["number"]
    assert PERSON_ID not in json.dumps(verdict)
    assert api.status("GET", path, {"license_id": "no-such"}, None) == 404


@case("POST", "/api/licenses/{license_id}/revoke")
def _revoke(api, fixture):
    license = fixture("startup")["licences"][-1]
    path = "/api/licenses/{license_id}/revoke"
    target, reason = {"license_id": license["id"]}, {"reason": "issued in error"}
    assert api.status("POST", path, target, None, json=reason) == 401
    assert api.status("POST", path, target, fixture("startup")["applicant"], json=reason) == 403
    assert api.status("POST", path, target, "operator", json={"reason": "no"}) == 400
    assert api.status("POST", path, target, "operator", data="reason=issued in error") == 415
    assert api.status("POST", path, {"license_id": "no-such"}, "operator", json=reason) == 404
    revoked = api.call("POST", path, target, "operator", json=reason)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert api.status("POST", path, target, "operator", json=reason) == 409
    verdict = api.call("POST", "/api/licenses/verify", json=license).json()
    assert verdict["result"] == "revoked"


NOTIFICATIONS = "/api/notifications"


def told(api, application_id):
    """The applicant's inbox notices about one application, once the licence is told."""

    def found():
        inbox = api.call("GET", NOTIFICATIONS, params={"limit": 100}).json()["notifications"]
        mine = [n for n in inbox if n["application_id"] == application_id]
        return mine if "license_issued" in {n["notice"] for n in mine} else None

    return wait_for(found, f"the notices of {application_id}")


@case("GET", NOTIFICATIONS)
def _inbox(api, fixture):
    notices = told(api, fixture("birth")["id"])
    assert {"application_submitted", "application_approved"} <= {n["notice"] for n in notices}
    page = api.call("GET", NOTIFICATIONS, params={"limit": 1, "unread": "true"}).json()
    assert len(page["notifications"]) == 1 and page["limit"] == 1
    assert api.call("GET", NOTIFICATIONS, as_=("applicant", STRANGER)).json()["total"] == 0
    assert api.status("GET", NOTIFICATIONS, params={"limit": 101}) == 400
    assert api.status("GET", NOTIFICATIONS, params={"page": 2}) == 400
    assert api.status("GET", NOTIFICATIONS, as_="supervisor") == 403
    assert api.status("GET", NOTIFICATIONS, as_=None) == 401


@case("POST", NOTIFICATIONS + "/{notification_id}/read")
def _read(api, fixture):
    path = NOTIFICATIONS + "/{notification_id}/read"
    target = {"notification_id": told(api, fixture("birth")["id"])[0]["id"]}
    assert api.status("POST", path, target, ("applicant", STRANGER)) == 404
    assert api.status("POST", path, target, "supervisor") == 403
    assert api.status("POST", path, target, None) == 401
    assert api.call("POST", path, target).json()["read"] is True
    assert api.status("POST", path, {"notification_id": "no-such"}) == 404


@case("GET", NOTIFICATIONS + "/preferences")
def _preferences(api, fixture):
    path = NOTIFICATIONS + "/preferences"
    shown = api.call("GET", path, as_=("applicant", STRANGER)).json()
    assert shown["always"] == ["inbox"] and shown["chosen"] is False
    assert api.status("GET", path, as_="operator") == 403
    assert api.status("GET", path, as_=None) == 401


@case("PUT", NOTIFICATIONS + "/preferences")
def _choose_preferences(api, fixture):
    path, who = NOTIFICATIONS + "/preferences", ("applicant", STRANGER)
    kept = api.call("PUT", path, as_=who, json={"channels": ["file"]}).json()
    assert kept["channels"] == ["file"] and kept["chosen"] is True
    assert api.call("PUT", path, as_=who, json={"channels": ["fax"]}).status_code == 400
    assert api.status("PUT", path, as_=who, json={"channels": ["sms"]}) == 400  # not offered
    assert api.status("PUT", path, as_=who, json={"channels": []}) == 200
    assert api.status("PUT", path, as_=who, json={}) == 400
    assert api.status("PUT", path, as_=who, data="channels=file") == 415
    assert api.status("PUT", path, as_="operator", json={"channels": []}) == 403
    assert api.status("PUT", path, as_=None, json={"channels": []}) == 401


@case("GET", "/api/applications/{application_id}/receipt")
def _receipt(api, fixture):
    path, target = (
        "/api/applications/{application_id}/receipt",
        {"application_id": fixture("birth")["id"]},
    )
    receipt = api.call("GET", path, target).json()
    assert receipt["application_id"] == target["application_id"] and receipt["promised_due"]
    assert receipt["follow_up_url"].endswith(f"/applications/{target['application_id']}")
    assert receipt["status_url"] == f"/api/applications/{target['application_id']}"
    masked = receipt["applicant"]["id_number_masked"]
    assert masked == PERSON_ID[:3] + "*" * 13 + PERSON_ID[-2:]
    assert api.status("GET", path, target, ("applicant", STRANGER)) == 404
    assert api.status("GET", path, target, None) == 401
    assert api.status("GET", path, {"application_id": uuid.uuid4().hex}) == 404


@case("GET", "/api/applications/{application_id}/materials/{file_id}")
def _material_file(api, fixture):
    path = "/api/applications/{application_id}/materials/{file_id}"
    birth = fixture("birth")
    target = {"application_id": birth["id"], "file_id": birth["body"]["materials"][0]["file_id"]}
    for who in ("applicant", HEALTH_OFFICER):
        response = api.call("GET", path, target, who)
        assert response.status_code == 200 and response.content == SAMPLE_PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # another office, another applicant, no token, an upload the application does not name
    assert api.status("GET", path, target, ("officer", None, {"office": "health.430103"})) == 404
    assert api.status("GET", path, target, ("applicant", STRANGER)) == 404
    assert api.status("GET", path, target, None) == 401
    elsewhere = api.call(
        "POST",
        "/api/uploads",
        files={"file": ("other.pdf", SAMPLE_PDF, "application/pdf")},
    ).json()["file_id"]
    assert api.status("GET", path, dict(target, file_id=elsewhere)) == 404
    assert api.status("GET", path, dict(target, application_id=uuid.uuid4().hex)) == 404


@case("POST", "/api/officer/tasks/{task_id}/payment")
def _officer_payment(api, fixture):
    application_id, _, _, applicant = apply(api, "marriage", name="Unpaid civil_affairs")
    view = wait_for_status(api, application_id, {"awaiting_payment"}, applicant)
    task = next(t for t in view["tasks"] if t["state"] == "awaiting_payment")
    cashier = ("officer", "cashier-01", {"office": task["office"]})
    path, target = "/api/officer/tasks/{task_id}/payment", {"task_id": task["task_id"]}
    listed = api.call("GET", "/api/officer/tasks", as_=cashier).json()["tasks"]
    assert task["task_id"] in {t["task_id"] for t in listed}
    paid = {"amount": task["fee"], "receipt_number": "PAY-OAS-1"}
    assert api.status("POST", path, target, cashier, json=dict(paid, amount=1)) == 400
    assert api.status("POST", path, target, cashier, json={"amount": task["fee"]}) == 400
    assert api.status("POST", path, target, "applicant", json=paid) == 403
    assert api.status("POST", path, target, None, json=paid) == 401
    elsewhere = ("officer", "cashier-02", {"office": "health.430102"})
    assert api.status("POST", path, target, elsewhere, json=paid) == 404
    assert (
        api.status("POST", path, target, cashier, data="x", headers={"Content-Type": "text/plain"})
        == 415
    )
    assert api.call("POST", path, target, cashier, json=paid).status_code == 202
    assert wait_for_status(api, application_id, {"approved"}, applicant)
    assert api.status("POST", path, target, cashier, json=paid) == 409


NOTICES = "/api/applications/{application_id}/notices"
HALL = "/api/hall/applications"
HALL_CLERK = ("clerk", "clerk-0042", {"region": "430100"})


def hall_api(api, fixture):
    """The mesh whose hall accepts by hand (ACCEPTANCE=manual), seen through the document;
    what it answers counts as this module's api's."""
    hall = Api(fixture("hall_mesh"))
    hall.seen = api.seen
    return hall


@case("GET", NOTICES)
def _notices(api, fixture):
    target = {"application_id": fixture("birth")["id"]}
    listed = wait_for(
        lambda: (r := api.call("GET", NOTICES, target)).status_code == 200 and r.json(),
        "the acceptance notice to be signed",
    )
    assert [n["kind"] for n in listed["notices"]] == ["acceptance"]
    assert api.status("GET", NOTICES, target, "supervisor") == 200
    assert api.status("GET", NOTICES, target, ("applicant", STRANGER)) == 404
    assert api.status("GET", NOTICES, target, None) == 401
    assert api.status("GET", NOTICES, {"application_id": uuid.uuid4().hex}) == 404


@case("GET", NOTICES + "/{notice_id}")
def _notice(api, fixture):
    application_id = fixture("birth")["id"]
    target = {"application_id": application_id, "notice_id": f"{application_id}:acceptance"}
    path = NOTICES + "/{notice_id}"
    shown = wait_for(
        lambda: (r := api.call("GET", path, target)).status_code == 200 and r.json(),
        "the acceptance notice to be signed",
    )
    assert shown["title_zh"] == "受理通知书" and shown["signature"]
    assert api.status("GET", path, dict(target, notice_id="x:rejection")) == 404
    assert api.status("GET", path, target, ("applicant", STRANGER)) == 404


@case("POST", "/api/notices/verify")
def _verify_notice(api, fixture):
    application_id = fixture("birth")["id"]
    target = {"application_id": application_id, "notice_id": f"{application_id}:acceptance"}
    notice = wait_for(
        lambda: (
            (r := api.call("GET", NOTICES + "/{notice_id}", target)).status_code == 200 and r.json()
        ),
        "the acceptance notice to be signed",
    )
    path = "/api/notices/verify"
    assert api.call("POST", path, as_=None, json=notice).json()["result"] == "valid"
    forged = dict(notice, promised_due="2099-12-31T23:59:59+08:00")
    assert api.call("POST", path, json=forged).json()["result"] == "forged"
    assert api.status("POST", path, json={"id": notice["id"]}) == 400
    assert (
        api.status("POST", path, data=json.dumps(notice), headers={"Content-Type": "text/plain"})
        == 415
    )


@case("GET", HALL)
def _hall_applications(api, fixture):
    hall = hall_api(api, fixture)
    application_id = apply(hall, "birth")[0]
    wait_for_status(hall, application_id, {"accepting"})
    listed = hall.call("GET", HALL, as_=HALL_CLERK).json()
    assert application_id in {a["application_id"] for a in listed["applications"]}
    assert hall.status("GET", HALL, as_="applicant") == 403
    assert hall.status("GET", HALL, as_=None) == 401


@case("POST", HALL + "/{application_id}/acceptance")
def _hall_acceptance(api, fixture):
    hall = hall_api(api, fixture)
    application_id = apply(hall, "birth")[0]
    wait_for_status(hall, application_id, {"accepting"})
    path, target = HALL + "/{application_id}/acceptance", {"application_id": application_id}
    assert hall.status("POST", path, target, HALL_CLERK, json={"decision": "refuse"}) == 400
    assert hall.status("POST", path, target, HALL_CLERK, json={"decision": "maybe"}) == 400
    assert hall.status("POST", path, target, "applicant", json={"decision": "accept"}) == 403
    assert hall.status("POST", path, target, None, json={"decision": "accept"}) == 401
    assert (
        hall.status(
            "POST",
            path,
            {"application_id": uuid.uuid4().hex},
            HALL_CLERK,
            json={"decision": "accept"},
        )
        == 404
    )
    assert (
        hall.status(
            "POST", path, target, HALL_CLERK, data="accept", headers={"Content-Type": "text/plain"}
        )
        == 415
    )
    accepted = hall.call("POST", path, target, HALL_CLERK, json={"decision": "accept"})
    assert accepted.status_code == 200 and accepted.json()["acceptance"]["state"] == "accepted"
    assert hall.status("POST", path, target, HALL_CLERK, json={"decision": "accept"}) == 409


@pytest.mark.parametrize("operation", sorted(CASES), ids=lambda op: " ".join(op))
def test_operation_conforms_to_the_document(operation, api, request):
    CASES[operation](api, request.getfixturevalue)
    statuses = api.seen.get(operation, [])
    assert any(200 <= s < 300 for s in statuses), (
        f"{operation} was never driven to success (statuses seen: {statuses})"
    )


def test_every_documented_operation_is_driven():
    missing = documented_operations() - set(CASES)
    assert not missing, f"documented but not exercised here (add a case): {sorted(missing)}"
    stale = set(CASES) - documented_operations()
    assert not stale, f"exercised here but no longer documented: {sorted(stale)}"


# -- the gateway and the document cannot drift ----------------------------------
def normalise(template):
    """/api/x/<string:name> and /api/x/{name} both become /api/x/{}."""
    return re.sub(r"<(?:[^<>:]+:)?[^<>]+>|\{[^{}]+\}", "{}", template.rstrip("/") or "/")


def test_gateway_routes_and_document_agree():
    routed = {
        (method.strip().upper(), normalise(path))
        for path, methods, _ in ROUTES
        for method in methods.split(",")
    }
    documented = {(method, normalise(path)) for method, path in documented_operations()}
    assert not routed - documented, f"routed but undocumented: {sorted(routed - documented)}"
    assert not documented - routed, f"documented but not routed: {sorted(documented - routed)}"


def test_the_served_document_is_docs_openapi_yaml(mesh):
    served = requests.get(mesh.base + "/api/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("application/json")
    assert served.json() == SPEC


def test_the_document_has_no_stray_null_keys():
    """An unquoted ", " in a YAML flow mapping splits a description into a stray key whose
    value is null (it happened four times); nothing in an OpenAPI document is null."""

    def nulls(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None:
                    yield f"{path}/{key}"
                yield from nulls(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from nulls(value, f"{path}/{index}")

    assert not list(nulls(SPEC, "#")), list(nulls(SPEC, "#"))
