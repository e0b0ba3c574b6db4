"""The catalog check: the shipped data passes, and each kind of broken copy fails it."""

import copy
import shutil

import pytest
import yaml

from services.catalog import check as catalog_check
from services.catalog.domain import DEFAULT_DATA_DIR, load_data

DATA = load_data()


@pytest.fixture
def data():
    return copy.deepcopy(DATA)


def item(data, code):
    return next(i for i in data["items"] if i["code"] == code)


def scenario(data, code):
    return next(s for s in data["scenarios"] if s["code"] == code)


def entry(data, scenario_code, item_code):
    return next(e for e in scenario(data, scenario_code)["items"] if e["item"] == item_code)


def problems(data):
    return catalog_check.check(data)


def test_the_shipped_catalog_passes():
    assert problems(copy.deepcopy(DATA)) == []


def test_an_unknown_department_is_a_dangling_reference(data):
    item(data, "HN-WJ-0001")["department"] = "ministry_of_magic"
    assert "item HN-WJ-0001: unknown department ministry_of_magic" in problems(data)


def test_an_unknown_material_is_a_dangling_reference(data):
    item(data, "HN-GA-0001")["materials"].append("unicorn_permit")
    found = problems(data)
    assert "item HN-GA-0001: unknown material unicorn_permit" in found


def test_a_package_naming_an_unknown_item_is_a_dangling_reference(data):
    scenario(data, "marriage")["items"].append({"item": "HN-XX-9999"})
    assert "scenario marriage: unknown item HN-XX-9999" in problems(data)


def test_a_dependency_outside_the_package_is_a_dangling_reference(data):
    entry(data, "birth", "HN-GA-0001")["depends_on"] = ["HN-SJ-0001"]
    assert any(
        "birth: HN-GA-0001 depends on HN-SJ-0001, which is not in the package" in p
        for p in problems(data)
    )


def test_an_unknown_license_type_is_a_dangling_reference(data):
    item(data, "HN-MZ-0001")["license"] = "dragon_licence"
    assert "item HN-MZ-0001: unknown licence type dragon_licence" in problems(data)


def test_a_dependency_cycle_is_found(data):
    entry(data, "birth", "HN-WJ-0001")["depends_on"] = ["HN-RS-0001"]
    found = [p for p in problems(data) if "dependency cycle" in p]
    assert found and "HN-WJ-0001" in found[0] and "HN-RS-0001" in found[0]


def test_a_checklist_missing_a_material_fails(data):
    scenario(data, "birth")["checklist"].remove("child_photo")
    assert any(p.startswith("scenario birth: checklist") for p in problems(data))


def test_a_checklist_asking_for_an_extra_material_fails(data):
    scenario(data, "withdrawal")["checklist"].append("marriage_photo")
    assert any(p.startswith("scenario withdrawal: checklist") for p in problems(data))


def test_a_checklist_that_repeats_a_material_fails(data):
    checklist = scenario(data, "death")["checklist"]
    checklist.append(checklist[0])
    assert any(p.startswith("scenario death: checklist") for p in problems(data))


def test_a_package_without_a_checklist_fails(data):
    del scenario(data, "retirement")["checklist"]
    assert any(p.startswith("scenario retirement: checklist None") for p in problems(data))


def test_an_item_without_the_offline_channel_fails(data):
    item(data, "HN-SW-0008")["channels"] = ["online"]
    assert any(
        p.startswith("item HN-SW-0008: must offer both online and offline") for p in problems(data)
    )


def test_a_promised_limit_above_the_legal_limit_fails(data):
    item(data, "HN-ZJ-0001").update(legal_days=7, promised_days=8)
    assert "item HN-ZJ-0001: promised limit 8 is above the legal limit 7" in problems(data)


def test_a_department_without_offices_at_an_items_level_fails(data):
    health = next(d for d in data["departments"] if d["code"] == "health")
    health["offices"]["levels"] = ["province", "city"]
    found = [p for p in problems(data) if p.startswith("department health: no county office")]
    assert found and "HN-WJ-0001" in found[0]


def test_an_office_exception_pointing_at_no_office_fails(data):
    ecology = next(d for d in data["departments"] if d["code"] == "ecology_environment")
    ecology["offices"]["served_by"] = {"430200": "430203"}  # a county: ecology has none there
    found = problems(data)
    assert any(
        "department ecology_environment: region 430200 is served by 430203, where the "
        "department has no office" in p
        for p in found
    )
    assert any(
        p.startswith("department ecology_environment: no city office for 1 region") for p in found
    )


def test_a_duplicated_item_code_fails(data):
    data["items"].append(dict(item(data, "HN-WJ-0002"), name="Another", name_zh="另一个"))
    assert "items: code 'HN-WJ-0002' is duplicated" in problems(data)


def test_a_duplicated_item_name_fails(data):
    item(data, "HN-WJ-0002")["name"] = item(data, "HN-WJ-0001")["name"]
    assert f"items: name {item(data, 'HN-WJ-0001')['name']!r} is duplicated" in problems(data)


def test_a_duplicated_package_name_within_an_audience_fails(data):
    scenario(data, "marriage")["name"] = "Births"
    assert "scenarios: name 'Births' is duplicated for audience individual" in problems(data)


def test_a_promise_shorter_than_the_longest_dependency_chain_fails(data):
    scenario(data, "construction_permit")["promised_days"] = 5
    assert any(
        p.startswith(
            "scenario construction_permit: promised 5 working days, but its "
            "longest dependency chain takes"
        )
        for p in problems(data)
    )


def test_a_form_field_of_an_unknown_type_fails(data):
    scenario(data, "birth")["form"][0]["type"] = "colour"
    assert any("form field child_name has type colour" in p for p in problems(data))


def field(data, scenario_code, name):
    return next(f for f in scenario(data, scenario_code)["form"] if f["name"] == name)


@pytest.mark.parametrize("title_zh", [None, "", "  ", ["姓名"]])
def test_a_form_field_without_a_chinese_title_fails(data, title_zh):
    if title_zh is None:
        del field(data, "birth", "child_name")["title_zh"]
    else:
        field(data, "birth", "child_name")["title_zh"] = title_zh
    assert "scenario birth: form field child_name has no title_zh" in problems(data)


def test_two_form_fields_with_the_same_chinese_title_fail(data):
    field(data, "birth", "father_id_number")["title_zh"] = "母亲公民身份号码"
    assert "scenario birth: two form fields have the title_zh '母亲公民身份号码'" in problems(data)


def test_an_enum_without_chinese_titles_fails(data):
    del field(data, "birth", "child_sex")["enum_zh"]
    assert (
        "scenario birth: form field child_sex has an enum but no enum_zh "
        "(a Chinese title for each value)" in problems(data)
    )


def test_an_enum_with_a_blank_chinese_title_fails(data):
    field(data, "birth", "child_sex")["enum_zh"] = ["女", ""]
    assert any("form field child_sex has an enum but no enum_zh" in p for p in problems(data))


@pytest.mark.parametrize("enum_zh", [["女"], ["女", "男", "其他"]])
def test_chinese_enum_titles_not_parallel_to_the_enum_fail(data, enum_zh):
    field(data, "birth", "child_sex")["enum_zh"] = enum_zh
    assert (
        f"scenario birth: form field child_sex has 2 enum values but {len(enum_zh)} "
        "enum_zh titles" in problems(data)
    )


def test_chinese_enum_titles_listed_twice_fail(data):
    field(data, "birth", "child_sex")["enum_zh"] = ["男", "男"]
    assert (
        "scenario birth: form field child_sex has enum_zh titles listed twice: ['男']"
        in problems(data)
    )


def test_chinese_enum_titles_without_an_enum_fail(data):
    field(data, "birth", "child_name")["enum_zh"] = ["甲"]
    assert "scenario birth: form field child_name has enum_zh but no enum" in problems(data)


@pytest.mark.parametrize("description_zh", [None, "", " "])
def test_a_package_without_a_chinese_description_fails(data, description_zh):
    if description_zh is None:
        del scenario(data, "marriage")["description_zh"]
    else:
        scenario(data, "marriage")["description_zh"] = description_zh
    assert "scenario marriage: description_zh is missing (one sentence in Chinese)" in problems(
        data
    )


def test_every_shipped_form_field_and_package_has_its_chinese_text():
    """The shipped data itself: 26 packages, every field titled, every enum parallel."""
    fields = [f for s in DATA["scenarios"] for f in s["form"]]
    assert len(DATA["scenarios"]) == 26 and len(fields) >= 140
    assert all(s["description_zh"].strip() for s in DATA["scenarios"])
    assert all(f["title_zh"].strip() for f in fields)
    assert all(len(f["enum_zh"]) == len(f["enum"]) for f in fields if "enum" in f)


def test_a_holiday_on_a_weekend_and_a_make_up_day_on_a_weekday_fail(data):
    data["calendar"]["holidays"].append("2026-03-07")  # a Saturday
    data["calendar"]["workdays"].append("2026-03-09")  # a Monday
    found = problems(data)
    assert "calendar: holiday 2026-03-07 is a weekend day (list weekdays only)" in found
    assert "calendar: make-up working day 2026-03-09 is a weekday" in found


def test_the_command_fails_on_a_broken_copy_of_the_files(tmp_path, capsys):
    broken = tmp_path / "catalog"
    shutil.copytree(DEFAULT_DATA_DIR, broken)
    path = broken / "items" / "individual.yaml"
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    items[0]["channels"] = ["offline"]
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")

    assert catalog_check.main([str(broken)]) == 1
    captured = capsys.readouterr()
    assert f"item {items[0]['code']}: must offer both online and offline" in captured.err
    assert "FAILED" in captured.out
    assert catalog_check.main([str(DEFAULT_DATA_DIR)]) == 0
