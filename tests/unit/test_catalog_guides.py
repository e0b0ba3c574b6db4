"""Service guides (办事指南): every shipped item has a complete one that agrees with the item;
the check refuses a guide that is missing, incomplete or contradicts the item; the package's
one guide adds up its items; the guide files are what the generator writes."""

import copy
import shutil

import pytest
import yaml

from scripts import catalog_guides
from services.catalog import check as catalog_check
from services.catalog.domain import DEFAULT_DATA_DIR, Catalog, load_data
from services.catalog import views
from services.catalog.guides import GUIDE_FIELDS, Guides
from onestop.common.errors import Unknown

DATA = load_data()
CATALOG = Catalog(DATA)


@pytest.fixture
def data():
    return copy.deepcopy(DATA)


def guide(data, code):
    return next(g for g in data["guides"] if g["code"] == code)


def item(data, code):
    return next(i for i in data["items"] if i["code"] == code)


def problems(data):
    return catalog_check.check(data)


def test_every_shipped_item_has_a_complete_guide_that_agrees_with_it():
    assert {g["code"] for g in DATA["guides"]} == {i["code"] for i in DATA["items"]}
    assert len(DATA["guides"]) == 300
    for entry in DATA["guides"]:
        for field in GUIDE_FIELDS:
            assert entry[field] not in (None, "", []), (entry["code"], field)
    assert problems(copy.deepcopy(DATA)) == []


def test_the_guide_files_are_what_the_generator_writes(tmp_path):
    """Nobody edits a generated guide by hand: the script's --check fails when they differ."""
    assert catalog_guides.main(["--check", str(DEFAULT_DATA_DIR)]) == 0
    copied = shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "catalog")
    path = copied / "guides" / "individual.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("不收费", "免费", 1), "utf-8")
    assert catalog_guides.main(["--check", str(copied)]) == 1


def test_shipped_guides_follow_the_items_fees_visits_and_delivery():
    guides = CATALOG.guides
    assert guides["HN-GA-0005"]["fee"] == "居民身份证工本费20元/证"  # fee 20
    assert "发改价格" in guides["HN-GA-0005"]["fee_basis"]
    assert guides["HN-WJ-0001"]["fee"] == "不收费"
    assert guides["HN-MZ-0001"]["visits"] == 1  # both parties sign in person
    assert guides["HN-MZ-0001"]["in_person"]
    assert guides["HN-WJ-0001"]["visits"] == 0
    assert "电子证照" in guides["HN-MZ-0001"]["delivery"]  # issues the marriage certificate
    assert guides["HN-ZR-0003"]["legal_basis"].startswith(
        "《中华人民共和国民法典》第209条、第214条"
    )


def test_an_item_without_a_guide_is_refused(data):
    data["guides"] = [g for g in data["guides"] if g["code"] != "HN-WJ-0001"]
    assert "item HN-WJ-0001: no service guide (data/catalog/guides/*.yaml)" in problems(data)


@pytest.mark.parametrize("field", GUIDE_FIELDS)
def test_a_guide_without_one_of_its_fields_is_refused_naming_item_and_field(data, field):
    del guide(data, "HN-GA-0001")[field]
    assert f"item HN-GA-0001: guide field {field} is missing" in problems(data)


def test_a_free_item_whose_guide_charges_is_refused(data):
    guide(data, "HN-WJ-0001")["fee"] = "工本费10元"
    assert "item HN-WJ-0001: guide fee '工本费10元', but the item is free ('不收费')" in problems(
        data
    )


def test_a_fee_the_guide_does_not_state_is_refused(data):
    item(data, "HN-GA-0005")["fee"] = 25
    assert (
        "item HN-GA-0005: guide fee '居民身份证工本费20元/证' does not state the item's fee 25元"
        in problems(data)
    )


def test_an_item_with_a_fee_needs_the_fee_basis(data):
    del guide(data, "HN-GA-0008")["fee_basis"]
    assert "item HN-GA-0008: guide field fee_basis is missing (the item has a fee)" in problems(
        data
    )


def test_limits_that_differ_from_the_items_days_are_refused(data):
    item(data, "HN-WJ-0001")["promised_days"] += 1
    guide(data, "HN-WJ-0002")["legal_limit"] = "30日"
    found = problems(data)
    assert any(p.startswith("item HN-WJ-0001: guide promised_limit") for p in found)
    assert any(p.startswith("item HN-WJ-0002: guide legal_limit '30日'") for p in found)


def test_visits_must_follow_the_channels_and_in_person(data):
    guide(data, "HN-WJ-0001")["visits"] = 1  # online, nothing in person: 0
    del guide(data, "HN-MZ-0001")["in_person"]  # now nothing says why a visit is needed
    found = problems(data)
    assert any(p.startswith("item HN-WJ-0001: guide visits 1, but the item takes 0") for p in found)
    assert any(p.startswith("item HN-MZ-0001: guide visits 1, but the item takes 0") for p in found)


def test_delivery_must_match_whether_the_item_issues_an_e_licence(data):
    guide(data, "HN-MZ-0001")["delivery"] = ["邮寄"]
    guide(data, "HN-CL-0002")["delivery"] = ["电子证照"]
    guide(data, "HN-CL-0003")["delivery"] = ["飞鸽传书"]
    found = problems(data)
    assert any(p.startswith("item HN-MZ-0001: produces the e-licence") for p in found)
    assert "item HN-CL-0002: guide delivers 电子证照, but the item issues no e-licence" in found
    assert any(p.startswith("item HN-CL-0003: guide delivery '飞鸽传书'") for p in found)


def test_a_legal_basis_that_drops_an_article_of_the_items_is_refused(data):
    guide(data, "HN-ZR-0003")["legal_basis"] = "《中华人民共和国民法典》第209条"
    found = problems(data)
    assert any(
        p.startswith("item HN-ZR-0003: guide legal_basis does not cite article(s) 20, 214")
        for p in found
    ), found


def test_a_guide_for_an_unknown_item_or_guided_twice_is_refused(data):
    data["guides"].append(dict(guide(data, "HN-WJ-0001"), code="HN-XX-0001"))
    data["guides"].append(dict(guide(data, "HN-WJ-0001")))
    found = problems(data)
    assert "guides: a guide for unknown item HN-XX-0001" in found
    assert "guides: code 'HN-WJ-0001' is duplicated" in found


def test_hall_data_is_checked(data):
    del data["halls"]["windows"]["health"]
    del data["halls"]["area_codes"]["430400"]
    found = problems(data)
    assert "halls: department health has no window number" in found
    assert "halls: region 430400 has no telephone area code" in found


def test_a_guide_file_is_read_by_item_code(tmp_path):
    copied = shutil.copytree(DEFAULT_DATA_DIR, tmp_path / "catalog")
    (copied / "guides" / "zz_extra.yaml").write_text(
        yaml.safe_dump({"HN-WJ-0001": {"fee": "不收费"}}, allow_unicode=True), "utf-8"
    )
    found = catalog_check.check(load_data(copied))
    assert "guides: code 'HN-WJ-0001' is duplicated" in found


# -- where to apply ---------------------------------------------------------------------


def test_where_to_apply_is_the_hall_of_the_handling_office_with_the_departments_window():
    guides = Guides(CATALOG)
    county = guides.item_guide("HN-WJ-0001", "430223")["where"]  # 攸县, a county item
    assert county["hall"] == "攸县政务服务中心"
    assert county["window"] == "7号窗口"  # health's window in halls.yaml
    assert county["phone"] == "0731-12345"
    assert county["office_name"] == "攸县卫生健康局"
    assert "周一至周五" in county["hours"]
    # Changsha's central districts: the city natural resources bureau decides (served_by)
    served = guides.item_guide("HN-ZR-0003", "430102")["where"]
    assert (served["hall"], served["office"]) == ("长沙市政务服务中心", "natural_resources.430100")
    # without a region: the hall by level, and where the item is delegated
    generic = guides.item_guide("HN-MZ-0007")["where"]
    assert generic["hall"] == "所在县（市、区）政务服务中心"
    assert generic["delegations"][0]["region_names"] == ["长沙县", "攸县"]


def test_a_delegated_item_is_applied_for_at_the_township_service_centre():
    where = Guides(CATALOG).item_guide("HN-MZ-0007", "430121101")["where"]  # 黄花镇
    assert where["hall"] == "黄花镇便民服务中心"
    assert (where["level"], where["delegated"]) == ("township", True)


# -- the package's one guide ------------------------------------------------------------


def test_the_package_guide_adds_up_fees_visits_and_materials_once():
    marriage = Guides(CATALOG).scenario_guide("marriage", "430223")
    applied = [i for i in marriage["items"] if i["applied_for"]]
    assert marriage["total_fee"] == sum(CATALOG.items[i["code"]].get("fee", 0) for i in applied)
    assert marriage["total_fee"] == 9 and marriage["fee_text"] == "9元"
    assert marriage["visits"] == 1  # marriage registration: both parties at the county hall
    codes = [m["code"] for m in marriage["materials"]]
    assert len(codes) == len(set(codes))
    expected = {m for i in applied for m in CATALOG.items[i["code"]]["materials"]}
    assert set(codes) == expected
    assert marriage["longest_promised_days"] == max(i["promised_days"] for i in applied)
    assert marriage["promised_days"] == CATALOG.scenario("marriage")["promised_days"]


def test_a_package_done_entirely_online_takes_no_visit_and_optional_items_count_when_chosen():
    guides = Guides(CATALOG)
    birth = CATALOG.scenario("birth")
    optional = [e["item"] for e in birth["items"] if e.get("optional")]
    without = guides.scenario_guide("birth")
    with_all = guides.scenario_guide("birth", None, optional)
    assert without["visits"] == 0 and without["total_fee"] == 0
    assert without["optional_items"] == [] and with_all["optional_items"] == optional
    assert len(with_all["materials"]) >= len(without["materials"])
    assert all(i["guide"]["conditions"] for i in with_all["items"])


def test_a_version_stored_before_guides_existed_answers_without_them():
    """Versions stay servable: an old one has neither guides nor halls (no 500)."""
    old = {k: v for k, v in copy.deepcopy(DATA).items() if k not in ("guides", "halls")}
    catalog = Catalog(old, version=1)
    assert "guide" not in views.item(catalog, "HN-WJ-0001")
    with pytest.raises(Unknown) as refused:
        views.scenario_guide(catalog, "birth", {"optional": []})
    assert "predates service guides" in str(refused.value)
