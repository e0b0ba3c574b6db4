"""The catalog service in a real nameko container on the real broker and store:
its HTTP API (search, plans, forms, versions) and its RPC (get_scenario, plan)."""

import os
import uuid

import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy

from services.catalog.service import CatalogService


@pytest.fixture
def catalog(container_factory, nameko_config):
    os.environ["MONGO_DB_PREFIX"] = f"it{uuid.uuid4().hex[:6]}_"
    container = container_factory(CatalogService, nameko_config)
    container.start()
    base = f"http://{nameko_config['WEB_SERVER_ADDRESS']}"
    yield lambda path, **params: requests.get(base + path, params=params, timeout=30)


def test_rpc_answers_every_package_and_plans_it(catalog, nameko_config):
    with ServiceRpcProxy("catalog", nameko_config) as rpc:
        codes = [s["code"] for s in catalog("/api/scenarios").json()["scenarios"]]
        assert len(codes) == 26
        for code in codes:
            view = rpc.get_scenario(code)
            optional = [i["code"] for i in view["items"] if i["optional"]]
            plan = rpc.plan(code, "430102", optional, view["catalog_version"])
            assert [t["item_code"] for t in plan["tasks"]] == [i["code"] for i in view["items"]]
        assert rpc.get_scenario("nothing") is None
        assert "error" in rpc.plan("birth", "999999")
        # the published statistics check a department filter with it (issue 18)
        assert rpc.get_department("health")["code"] == "health"
        assert rpc.get_department("nothing") is None


def test_items_and_packages_are_searched(catalog):
    found = catalog("/api/items", q="施工许可", level="county").json()
    assert "HN-ZJ-0001" in {i["code"] for i in found["items"]}
    assert all(i["level"] == "county" for i in found["items"])
    page = catalog("/api/items", limit=10, offset=290).json()
    assert page["total"] == 300 and len(page["items"]) == 10
    enterprise = catalog("/api/scenarios", audience="enterprise", q="insurance").json()
    assert enterprise["scenarios"][0]["code"] == "employee_insurance"
    assert catalog("/api/items/HN-WJ-0001").json()["scenarios"] == ["birth"]
    blank = catalog("/api/items", q="", department="", level="").json()  # a search box's form
    assert blank["total"] == 300


def test_search_in_plain_chinese(catalog):
    found = catalog("/api/search", q="盖房子要什么手续").json()
    assert found["results"][0]["code"] == "construction_permit"
    version = found["catalog_version"]
    pinned = catalog("/api/search", q="盖房子要什么手续", version=version).json()
    assert pinned["results"] == found["results"]
    assert catalog("/api/search", q="盖房子", version=999999).status_code == 404
    twice = catalog("/api/search", q=["生孩子", "开公司"])
    assert twice.status_code == 400 and twice.json()["fields"] == {
        "q": ["give this parameter once"]
    }
    long = catalog("/api/search", q="我" * 101)
    assert long.status_code == 400 and long.json()["fields"].keys() == {"q"}


def test_bad_queries_are_400_with_the_field_named(catalog):
    assert catalog("/api/items", level="village").json()["fields"].keys() == {"level"}
    assert "department" in catalog("/api/items", department="nowhere").json()["fields"]
    assert "audience" in catalog("/api/scenarios", audience="aliens").json()["fields"]
    assert "colour" in catalog("/api/items", colour="red").json()["fields"]
    plan = catalog("/api/scenarios/birth/plan", region="430100")
    assert plan.status_code == 400 and "region" in plan.json()["fields"]
    missing = catalog("/api/scenarios/birth/plan")
    assert missing.status_code == 400 and "region" in missing.json()["fields"]
    bad = catalog(
        "/api/scenarios/birth/plan", region="430102", start="someday", optional="HN-SJ-0001"
    )
    assert bad.status_code == 400 and "start" in bad.json()["fields"]
    wrong = catalog("/api/scenarios/birth/plan", region="430102", optional="HN-SJ-0001")
    assert wrong.status_code == 400 and "optional" in wrong.json()["fields"]
    assert catalog("/api/catalog/versions/one/diff/2").status_code == 400
    assert catalog("/api/catalog/versions/1/diff/99").status_code == 404
    assert catalog("/api/scenarios/nothing/plan", region="430102").status_code == 404
    assert catalog("/api/items/HN-XX-0000").status_code == 404
    assert catalog("/api/scenarios/birth", version="x").status_code == 400


def test_a_plan_with_promised_dates_from_a_start(catalog):
    plan = catalog(
        "/api/scenarios/enterprise_startup/plan",
        region="430102",
        optional="HN-GJ-0006",
        start="2026-09-30",
    ).json()
    tasks = {t["item_code"]: t for t in plan["tasks"]}
    assert set(tasks) == {"HN-SJ-0001", "HN-GA-0010", "HN-SW-0001", "HN-RS-0010", "HN-GJ-0006"}
    # received on 30 Sep 2026: 1 working day later is 8 Oct (National Day break)
    assert tasks["HN-SJ-0001"]["promised_due"].startswith("2026-10-08")
    assert tasks["HN-RS-0010"]["starts"] == tasks["HN-SW-0001"]["promised_due"]
    assert plan["promised_due"].startswith("2026-10-10")  # 3 days, the 10th is a make-up day
    assert plan["calendar_provisional"] is False


def test_forms_departments_calendar_and_versions(catalog):
    form = catalog("/api/scenarios/marriage/form").json()
    assert form["$schema"].endswith("2020-12/schema") and "bride_id_number" in form["required"]
    natural = catalog("/api/departments/natural_resources").json()
    central = next(o for o in natural["offices"] if o["region"] == "430100")
    assert "430102" in central["serves"]
    assert len(catalog("/api/departments").json()["departments"]) >= 30
    calendar = catalog("/api/calendar").json()
    assert calendar["provisional"] == [2027] and "2027-02-05" in calendar["holidays"]
    versions = catalog("/api/catalog/versions").json()["versions"]
    current = next(v["version"] for v in versions if v["current"])
    same = catalog(f"/api/catalog/versions/{current}/diff/{current}").json()
    assert same["items"] == {"added": [], "removed": [], "changed": []}


ODD_INPUT = [
    ("/api/scenarios/birth/plan", {"region": "430102", "start": "9999-12-31"}),
    ("/api/scenarios/birth/plan", {"region": "430102", "start": "2026-02-30"}),
    ("/api/catalog/versions/²/diff/1", {}),
    ("/api/items", {"limit": "1.5"}),
    ("/api/items", {"version": "0"}),
]


def test_odd_input_is_a_400_not_a_500(catalog):
    assert [catalog(path, **params).status_code for path, params in ODD_INPUT] == [400] * len(
        ODD_INPUT
    )
