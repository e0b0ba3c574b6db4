"""The catalog's HTTP answers and refusals without a container: refusals are domain errors
that the shared table (onestop.common.http.DOMAIN_STATUSES) turns into statuses."""

from datetime import datetime, timezone

import pytest

from onestop.common.http import domain_status
from services.catalog import views
from services.catalog.domain import Catalog, load_data
from services.catalog.versions import InvalidCatalog, UnknownVersion

CATALOG = Catalog(load_data())
NOW = datetime(2026, 9, 30, 1, 0, tzinfo=timezone.utc)


def refusal(answer):
    with pytest.raises(Exception) as refused:
        answer()
    status, _ = domain_status(refused.value)
    return status, refused.value.fields


def test_unknown_things_are_404():
    assert refusal(lambda: CATALOG.scenario_view("nothing")) == (404, {})
    assert refusal(lambda: CATALOG.item_detail("HN-XX-0000")) == (404, {})
    assert refusal(lambda: CATALOG.department_view("nowhere")) == (404, {})
    assert domain_status(UnknownVersion(99)) == (404, "not_found")


def test_bad_plan_requests_are_400_naming_the_field():
    query = {"region": "430100", "optional": []}  # a city, not a county
    assert refusal(lambda: views.plan(CATALOG, "birth", query, NOW))[1].keys() == {"region"}
    query = {"region": "430102", "optional": ["HN-SJ-0001"]}
    assert refusal(lambda: views.plan(CATALOG, "birth", query, NOW))[1].keys() == {"optional"}
    status, _ = refusal(
        lambda: views.plan(CATALOG, "nothing", {"region": "430102", "optional": []}, NOW)
    )
    assert status == 404
    assert refusal(
        lambda: views.items(CATALOG, {"department": "nowhere", "limit": 1, "offset": 0})
    )[1].keys() == {"department"}
    assert domain_status(InvalidCatalog("data", ["a problem"])) == (400, "bad_request")


def test_a_plan_is_scheduled_and_pages_are_cut():
    plan = views.plan(CATALOG, "birth", {"region": "430102", "optional": []}, NOW)
    assert plan["tasks"] and all("promised_due" in task for task in plan["tasks"])
    page = views.items(CATALOG, {"limit": 10, "offset": 290})
    assert page["total"] == len(CATALOG.items) and len(page["items"]) == 10
    assert {r["level"] for r in CATALOG.regions_view(level="county")} == {"county"}
