"""The catalog's content and its questions: packages, routing to offices, plans, search, diffs."""

import copy
from datetime import datetime

import pytest

from onestop.common.working_days import CHINA, WorkingCalendar
from services.catalog.diff import diff_catalogs
from services.catalog.domain import Catalog, PlanError, load_data, schedule

DATA = load_data()
CATALOG = Catalog(DATA)
CALENDAR = WorkingCalendar(DATA["calendar"])

SEED_PACKAGES = {
    "individual": [
        "Births",
        "School enrollment",
        "Certificate application",
        "Employment",
        "Real estate registration",
        "Marriage",
        "Social insurance",
        "Medical service",
        "Special groups service",
        "Retirement",
        "Death",
    ],
    "enterprise": [
        "Start-up",
        "Adjustments",
        "Employment",
        "Employee insurance",
        "Tax payment",
        "Police implementation",
        "Financing",
        "Withdrawal",
    ],
    "project": [
        "Tendering and bidding",
        "Land use approval",
        "Joint approval of construction drawings",
        "Construction permits",
        "Joint acceptance inspection",
        "Joint installation of water, electricity, and gas",
        "Acceptance inspection of profitable projects",
    ],
}


def test_the_26_packages_of_the_seed_with_their_exact_names():
    for audience, names in SEED_PACKAGES.items():
        assert [s["name"] for s in CATALOG.scenarios.values() if s["audience"] == audience] == names
    assert len(CATALOG.scenarios) == 26


def test_about_300_distinct_items_some_shared_between_packages():
    assert 290 <= len(CATALOG.items) <= 310
    shared = [code for code, packages in CATALOG.scenarios_of_item.items() if len(packages) > 1]
    assert len(shared) >= 10
    assert set(CATALOG.scenarios_of_item) == set(CATALOG.items)


def test_every_item_carries_the_standard_fields():
    for item in CATALOG.items.values():
        assert item["name"] and item["name_zh"] and item["legal_basis"]
        assert set(item["channels"]) == {"online", "offline"}
        assert 0 < item["promised_days"] <= item["legal_days"]
        assert item["materials"] and item["level"] in ("province", "city", "county")
    assert {i["level"] for i in CATALOG.items.values()} == {"province", "city", "county"}


def test_the_earlier_codes_stay():
    assert {"birth", "enterprise_startup", "construction_permit"} <= set(CATALOG.scenarios)
    for code in (
        "HN-WJ-0001",
        "HN-WJ-0002",
        "HN-GA-0001",
        "HN-YB-0001",
        "HN-RS-0001",
        "HN-SJ-0001",
        "HN-GA-0010",
        "HN-SW-0001",
        "HN-RS-0010",
        "HN-YB-0010",
        "HN-ZR-0001",
        "HN-ZR-0002",
        "HN-ZJ-0002",
        "HN-HB-0001",
        "HN-ZJ-0001",
    ):
        assert code in CATALOG.items


def test_an_item_goes_to_the_office_at_its_level_for_the_applicants_region():
    plan = CATALOG.plan("birth", "430223")  # 攸县, Zhuzhou
    offices = {t["item_code"]: t["office"] for t in plan["tasks"]}
    assert offices["HN-WJ-0001"] == "health.430223"  # county item
    assert offices["HN-RS-0001"] == "hrss.430200"  # city item
    land = CATALOG.plan("land_use_approval", "430223")
    assert {t["item_code"]: t["region"] for t in land["tasks"]}["HN-ZR-0011"] == "430000"


def test_a_region_without_an_office_of_its_own_is_served_as_the_data_says():
    # Changsha's central districts have branches of the city natural resources bureau
    central = CATALOG.plan("real_estate_registration", "430102")
    county = CATALOG.plan("real_estate_registration", "430181")  # 浏阳市 has its own bureau
    assert {t["item_code"]: t["office"] for t in central["tasks"]}[
        "HN-ZR-0003"
    ] == "natural_resources.430100"
    assert {t["item_code"]: t["office"] for t in county["tasks"]}[
        "HN-ZR-0003"
    ] == "natural_resources.430181"


def test_optional_items_join_only_when_chosen_and_unknown_ones_are_refused():
    plain = CATALOG.plan("birth", "430102")
    chosen = CATALOG.plan("birth", "430102", ["HN-YB-0002"])
    assert "HN-YB-0002" not in {t["item_code"] for t in plain["tasks"]}
    assert {t["item_code"]: t["depends_on"] for t in chosen["tasks"]}["HN-YB-0002"] == [
        "HN-YB-0001"
    ]
    with pytest.raises(PlanError) as refused:
        CATALOG.plan("birth", "430102", ["HN-SJ-0001"])
    assert refused.value.field == "optional"


def test_a_schedule_follows_the_dependencies_and_the_holidays():
    start = datetime(2026, 9, 29, 10, 0, tzinfo=CHINA)  # Tuesday before National Day
    planned = schedule(CATALOG.plan("birth", "430102"), CALENDAR, start)
    tasks = {t["item_code"]: t for t in planned["tasks"]}
    # HN-WJ-0001 promises 2 working days: 30 Sep, then 8 Oct (1-7 Oct are holidays)
    assert tasks["HN-WJ-0001"]["promised_due"].startswith("2026-10-08T15:59:59")
    assert tasks["HN-GA-0001"]["starts"] == tasks["HN-WJ-0001"]["promised_due"]
    # 3 working days after 8 Oct: 9 Oct, 10 Oct (a make-up Saturday), 12 Oct
    assert tasks["HN-GA-0001"]["promised_due"].startswith("2026-10-12")
    assert planned["critical_path_due"] == max(t["promised_due"] for t in tasks.values())
    assert planned["calendar_provisional"] is False
    late = schedule(
        CATALOG.plan("birth", "430102"), CALENDAR, datetime(2026, 12, 28, 9, 0, tzinfo=CHINA)
    )
    assert late["calendar_provisional"] is True  # runs into 2027, provisionally known


def test_item_search_by_words_department_level_and_audience():
    found = {i["code"] for i in CATALOG.search_items(q="出生")}
    assert "HN-WJ-0001" in found
    assert {i["code"] for i in CATALOG.search_items(q="birth certificate")} >= {"HN-WJ-0001"}
    province_taxation = CATALOG.search_items(department="natural_resources", level="province")
    assert province_taxation and all(
        i["level"] == "province" and i["department"] == "natural_resources"
        for i in province_taxation
    )
    project_items = CATALOG.search_items(audience="project")
    assert "HN-ZJ-0001" in {i["code"] for i in project_items}
    assert "HN-WJ-0001" not in {i["code"] for i in project_items}
    assert CATALOG.search_items(q="no such thing anywhere") == []


def test_package_search_by_words_audience_and_department():
    named = [s["code"] for s in CATALOG.search_scenarios(q="Employment")]
    assert named[:2] == ["employment_individual", "enterprise_employment"]
    assert "employee_insurance" in named[2:]  # one of its items' names says employment
    enterprise = CATALOG.search_scenarios(q="employment", audience="enterprise")
    assert enterprise[0]["code"] == "enterprise_employment"
    assert {s["audience"] for s in enterprise} == {"enterprise"}
    # found through one of its items' names
    assert "withdrawal" in {s["code"] for s in CATALOG.search_scenarios(q="清税证明")}
    customs = CATALOG.search_scenarios(department="customs")
    assert [s["code"] for s in customs] == ["withdrawal"]


def test_offices_of_a_department_list_the_exceptions():
    offices = {o["region"]: o for o in CATALOG.offices("natural_resources")}
    assert "430102" not in offices
    assert "430102" in offices["430100"]["serves"]
    assert offices["430100"]["name"] == "长沙市自然资源和规划局"
    assert {o["level"] for o in CATALOG.offices("ecology_environment")} == {"province", "city"}


def test_a_diff_names_delegations_and_package_changes_field_by_field():
    new = copy.deepcopy(DATA)
    land = next(i for i in new["items"] if i["code"] == "HN-ZR-0011")
    land["level"] = "city"
    land["promised_days"] = 8
    birth = next(s for s in new["scenarios"] if s["code"] == "birth")
    birth["items"] = [e for e in birth["items"] if e["item"] != "HN-WJ-0014"]
    new["calendar"]["holidays"].append("2027-03-08")

    diff = diff_catalogs(DATA, new)

    assert diff["delegations"] == [{"item": "HN-ZR-0011", "from": "province", "to": "city"}]
    assert diff["items"]["changed"] == [
        {
            "code": "HN-ZR-0011",
            "changes": {
                "level": {"from": "province", "to": "city"},
                "promised_days": {"from": 10, "to": 8},
            },
        }
    ]
    assert diff["items"]["added"] == diff["items"]["removed"] == []
    birth_change = diff["scenarios"]["changed"][0]
    assert birth_change["code"] == "birth"
    assert birth_change["items"]["removed"] == ["HN-WJ-0014"]
    assert diff["calendar"]["holidays"] == {"added": ["2027-03-08"], "removed": []}
    assert diff_catalogs(DATA, DATA)["summary"]["items"] == {"added": 0, "removed": 0, "changed": 0}


def test_the_diff_names_changed_search_synonyms():
    new = copy.deepcopy(DATA)
    entries = new["synonyms"]["synonyms"]
    entries.append({"words": ["吃席"], "means": ["death"]})
    births = next(e for e in entries if "生孩子" in e["words"])
    births["means"] = ["birth"]
    entries.remove(next(e for e in entries if "低保" in e["words"]))
    new["synonyms"]["stop_words"].append("哦")

    synonyms = diff_catalogs(DATA, new)["synonyms"]

    assert synonyms["added"] == ["吃席"]
    assert synonyms["removed"] == ["低保"]
    assert {
        "word": "生孩子",
        "from": sorted(["birth", "出生", "新生儿", "生育"]),
        "to": ["birth"],
    } in (synonyms["changed"])
    assert {c["word"] for c in synonyms["changed"]} == set(births["words"])
    assert synonyms["stop_words"] == {"added": ["哦"], "removed": []}
    unchanged = diff_catalogs(DATA, DATA)["synonyms"]
    assert unchanged["added"] == unchanged["removed"] == unchanged["changed"] == []


def without_chinese_labels(data):
    """The data as a version stored before title_zh, enum_zh and description_zh existed."""
    old = copy.deepcopy(data)
    for scenario in old["scenarios"]:
        scenario.pop("description_zh")
        for field in scenario["form"]:
            field.pop("title_zh")
            field.pop("enum_zh", None)
    return old


def test_a_version_stored_before_the_chinese_labels_still_serves_its_forms():
    old = Catalog(without_chinese_labels(DATA), version=1)
    view = old.scenario_view("birth")
    assert view["description_zh"] == ""
    assert "x-title-zh" not in view["form_schema"]["properties"]["child_name"]
    assert view["form_schema"]["properties"]["child_sex"]["enum"] == ["female", "male"]
    assert old.search_index().search("生孩子")["results"][0]["code"] == "birth"


def test_the_diff_shows_the_chinese_labels_added_to_a_package():
    diff = diff_catalogs(without_chinese_labels(DATA), DATA)
    birth = next(c for c in diff["scenarios"]["changed"] if c["code"] == "birth")
    assert birth["changes"]["description_zh"]["from"] is None
    assert birth["changes"]["description_zh"]["to"].startswith("一次申请")
    form = birth["changes"]["form"]
    assert "title_zh" not in form["from"][0] and form["to"][0]["title_zh"] == "新生儿姓名"
    assert diff["summary"]["scenarios"]["changed"] == 26
