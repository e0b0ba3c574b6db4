"""Delegation by region and the township level: an item's `delegated_to` moves it to a lower
level inside the regions it names, and nowhere else; the check refuses a delegation that
routing could not follow; a change of delegation shows in the versions' diff."""

import copy

import pytest

from onestop.common.errors import Invalid
from services.catalog import check as catalog_check
from services.catalog.diff import diff_catalogs
from services.catalog.domain import Catalog, PlanError, handling_level, load_data, office_region

DATA = load_data()
CATALOG = Catalog(DATA)
TOWNSHIP_ITEM = "HN-MZ-0007"  # 高龄津贴申领: county level, township in 长沙县 and 攸县
COUNTY_ITEM = "HN-YB-0014"  # 长期护理保险待遇申请: city level, county in 浏阳市 and 醴陵市


@pytest.fixture
def data():
    return copy.deepcopy(DATA)


def item(data, code):
    return next(i for i in data["items"] if i["code"] == code)


def task(scenario, region, code, catalog=CATALOG):
    optional = [e["item"] for e in catalog.scenario(scenario)["items"] if e.get("optional")]
    plan = catalog.plan(scenario, region, optional)
    return next(t for t in plan["tasks"] if t["item_code"] == code)


@pytest.mark.parametrize(
    "region, level, office, delegated",
    [
        ("430121001", "township", "civil_affairs.430121001", True),  # 星沙街道, 长沙县
        ("430223101", "township", "civil_affairs.430223101", True),  # 网岭镇, 攸县
        # the applicant named only the county: no township to send it to, its own level
        ("430121", "county", "civil_affairs.430121", False),
        ("430102", "county", "civil_affairs.430102", False),  # 芙蓉区: not delegated
    ],
)
def test_a_township_delegation_routes_to_the_applicants_township_only(
    region, level, office, delegated
):
    planned = task("special_groups", region, TOWNSHIP_ITEM)
    assert (planned["level"], planned["office"], planned["delegated"]) == (
        level,
        office,
        delegated,
    )
    assert planned["region"] == office.split(".")[1]


def test_the_other_items_of_the_package_stay_at_their_own_level_in_a_delegated_township():
    plan = CATALOG.plan("special_groups", "430121001")
    others = [t for t in plan["tasks"] if t["item_code"] != TOWNSHIP_ITEM]
    assert others and all(not t["delegated"] for t in others)
    assert {t["region"] for t in others if t["level"] == "county"} == {"430121"}


@pytest.mark.parametrize(
    "region, office",
    [
        ("430181", "medical_security.430181"),  # 浏阳市: delegated to the county
        ("430281", "medical_security.430281"),  # 醴陵市: delegated to the county
        ("430121", "medical_security.430100"),  # 长沙县: the city, as everywhere else
        ("430121001", "medical_security.430100"),  # a township of a county not delegated
    ],
)
def test_a_city_item_delegated_to_chosen_counties(region, office):
    assert task("medical_service", region, COUNTY_ITEM)["office"] == office


def test_handling_level_takes_the_first_delegation_that_covers_the_region():
    entry = {
        "level": "city",
        "delegated_to": [
            {"level": "township", "regions": ["430121"]},
            {"level": "county", "regions": ["430100"]},  # every county of 长沙市
        ],
    }
    regions = CATALOG.regions
    assert handling_level(entry, "430121002", regions) == "township"
    assert handling_level(entry, "430121", regions) == "county"
    assert handling_level(entry, "430104", regions) == "county"
    assert handling_level(entry, "430223", regions) == "city"


def test_office_region_of_a_township_code():
    regions = CATALOG.regions
    assert office_region("430121101", "county", regions) == "430121"
    assert office_region("430121101", "city", regions) == "430100"
    assert office_region("430121101", "township", regions) == "430121101"
    with pytest.raises(PlanError):
        office_region("430121", "township", regions)  # a county is not a township


def test_plans_are_asked_for_a_county_or_a_township_not_a_city():
    assert CATALOG.county("430121001")["level"] == "township"
    with pytest.raises(Invalid) as refused:
        CATALOG.county("430100")
    assert refused.value.field == "region"


# -- the check ------------------------------------------------------------------------


def problems(data):
    return catalog_check.check(data)


def test_the_shipped_delegations_pass_the_check():
    assert problems(copy.deepcopy(DATA)) == []
    assert {"township", "county"} <= {
        d["level"] for i in DATA["items"] for d in i.get("delegated_to") or []
    }


def test_a_delegation_to_an_unknown_region_is_refused(data):
    item(data, TOWNSHIP_ITEM)["delegated_to"][0]["regions"].append("439999")
    assert f"item {TOWNSHIP_ITEM}: delegated to township in unknown region 439999" in problems(data)


def test_a_delegation_not_below_the_items_level_is_refused(data):
    item(data, TOWNSHIP_ITEM)["delegated_to"] = [{"level": "city", "regions": ["430100"]}]
    assert (
        f"item {TOWNSHIP_ITEM}: delegated to level city, which is not below its own level county"
        in problems(data)
    )


def test_a_delegation_where_the_department_has_no_office_at_that_level_is_refused(data):
    item(data, "HN-WJ-0001")["delegated_to"] = [{"level": "township", "regions": ["430121"]}]
    found = problems(data)
    assert (
        "item HN-WJ-0001: delegated to township in 430121, but health has no township "
        "office for 430121001" in found
    )


def test_a_township_delegation_to_a_county_without_townships_is_refused(data):
    item(data, TOWNSHIP_ITEM)["delegated_to"] = [{"level": "township", "regions": ["430102"]}]
    assert (
        f"item {TOWNSHIP_ITEM}: delegated to township in region 430102, which has no "
        f"township-level region" in problems(data)
    )


def test_a_township_must_sit_inside_its_county(data):
    data["regions"].append(
        {"code": "430102999", "name": "错位街道", "level": "township", "parent": "430121"}
    )
    assert any(p.startswith("region 430102999: a township's code") for p in problems(data))


def test_a_change_of_delegation_shows_in_the_diff(data):
    item(data, TOWNSHIP_ITEM)["delegated_to"][0]["regions"] = ["430121"]
    diff = diff_catalogs(DATA, data)
    assert diff["delegations"] == [
        {
            "item": TOWNSHIP_ITEM,
            "regional": {
                "from": [{"level": "township", "regions": ["430121", "430223"]}],
                "to": [{"level": "township", "regions": ["430121"]}],
            },
        }
    ]


def test_a_changed_guide_shows_in_the_diff(data):
    next(g for g in data["guides"] if g["code"] == "HN-WJ-0001")["visits"] = 1
    assert diff_catalogs(DATA, data)["guides"]["changed"][0]["code"] == "HN-WJ-0001"
