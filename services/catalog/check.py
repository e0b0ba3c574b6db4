"""The catalog check: fails the build on data an operator must not load (design §6).

    python -m services.catalog.check [data_dir]

It reports every problem, one line each: dangling references, dependency cycles,
checklists that are not the de-duplicated union of their items' materials, items
without both channels, promised limits above legal ones, offices missing where an
item needs one, duplicated codes or names, forms a client cannot fill, form fields
and packages without their Chinese text (title_zh, enum_zh, description_zh), a
calendar that contradicts itself, and search synonyms that point nowhere.
docs/catalog.md describes the data.
"""

import sys
from collections import Counter
from datetime import date

from services.catalog.domain import (
    AUDIENCES,
    CHANNELS,
    DEFAULT_DATA_DIR,
    FORM_FIELD_TYPES,
    LEVELS,
    REGION_LEVELS,
    Catalog,
    PlanError,
    critical_path_days,
    find_cycle,
    load_data,
    office_of,
    office_region,
)
from services.catalog.guides import guide_problems, hall_problems

APPLICANT_KINDS = ("person", "enterprise")
# (data file, key whose duplicates are refused); regions share names across provinces only
UNIQUE = [
    (name, key)
    for name in ("departments", "regions", "materials", "license_types", "items", "scenarios")
    for key in ("code", "name")
    if (name, key) not in {("regions", "name"), ("scenarios", "name")}
] + [("guides", "code")]


def _duplicates(values):
    return sorted(v for v, n in Counter(values).items() if n > 1)


def check(data):
    """Every problem found, as readable strings; an empty list means the data is sound."""
    problems = []
    for name, key in UNIQUE:
        for dup in _duplicates(entry.get(key) for entry in data.get(name) or []):
            problems.append(f"{name}: {key} {dup!r} is duplicated")
    for name in ("items", "scenarios"):
        for dup in _duplicates(e["name_zh"] for e in data[name] if e.get("name_zh")):
            problems.append(f"{name}: name_zh {dup!r} is duplicated")
    # the seed names two packages "Employment" (individual and enterprise): unique per audience
    for dup in _duplicates((s.get("audience"), s["name"]) for s in data["scenarios"]):
        problems.append(f"scenarios: name {dup[1]!r} is duplicated for audience {dup[0]}")
    catalog = Catalog(data)
    problems.extend(_check_regions(catalog))
    problems.extend(_check_departments(catalog))
    problems.extend(_check_license_types(catalog))
    problems.extend(hall_problems(catalog))
    for item in catalog.items.values():
        problems.extend(_check_item(catalog, item))
        problems.extend(guide_problems(item, catalog.guides.get(item["code"])))
        problems.extend(_check_delegation(catalog, item))
    for code in sorted(set(catalog.guides) - set(catalog.items)):
        problems.append(f"guides: a guide for unknown item {code}")
    for scenario in catalog.scenarios.values():
        problems.extend(_check_scenario(catalog, scenario))
    problems.extend(_check_offices(catalog))
    problems.extend(check_calendar(data.get("calendar") or {}))
    problems.extend(check_synonyms(catalog, data.get("synonyms") or {}))
    return problems


def _strings(value):
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and v.strip() for v in value)
    )


def check_synonyms(catalog, synonyms):
    """synonyms.yaml (search): every target is a package code or occurs in a Chinese name of
    the catalog (package, item, material, licence type), and an everyday word appears once."""
    if not isinstance(synonyms, dict):
        return ["synonyms: must be a mapping with stop_words and synonyms"]
    problems = []
    stop_words = synonyms.get("stop_words") or []
    if stop_words and not _strings(stop_words):
        problems.append("synonyms: stop_words must be a list of words")
        stop_words = []
    names = [
        entry["name_zh"]
        for table in (catalog.scenarios, catalog.items, catalog.materials, catalog.license_types)
        for entry in table.values()
        if entry.get("name_zh")
    ]
    seen = []
    for number, entry in enumerate(synonyms.get("synonyms") or [], start=1):
        where = f"synonyms: entry {number}"
        if not isinstance(entry, dict) or set(entry) - {"words", "means"}:
            problems.append(f"{where}: must have only words and means")
            continue
        if not _strings(entry.get("words")) or not _strings(entry.get("means")):
            problems.append(f"{where}: words and means must be non-empty lists of words")
            continue
        seen.extend(entry["words"])
        for target in entry["means"]:
            if target in catalog.scenarios:
                continue
            if target in stop_words:
                problems.append(f"{where}: target {target!r} is a stop word")
            elif not any(target in name for name in names):
                problems.append(
                    f"{where}: target {target!r} is neither a package code nor a word of "
                    "the catalog's Chinese names"
                )
    for dup in _duplicates(seen):
        problems.append(f"synonyms: everyday word {dup!r} is listed twice")
    return problems


def _check_regions(catalog):
    problems = []
    for region in catalog.regions.values():
        if region.get("level") not in REGION_LEVELS:
            problems.append(
                f"region {region['code']}: level {region.get('level')} is not one of "
                f"{REGION_LEVELS}"
            )
        if region["parent"] is not None and region["parent"] not in catalog.regions:
            problems.append(f"region {region['code']}: parent {region['parent']} does not exist")
        elif region.get("level") == "township" and not (
            len(region["code"]) == 9
            and catalog.regions[region["parent"]]["level"] == "county"
            and region["code"].startswith(region["parent"])
        ):
            problems.append(
                f"region {region['code']}: a township's code is its county's six digits and "
                f"three more, and its parent that county"
            )
    return problems


def _check_delegation(catalog, item):
    """delegated_to: a lower level than the item's, regions that exist, and an office of the
    department at that level for every applicant region the delegation covers."""
    code = item["code"]
    problems = []
    department = catalog.departments.get(item.get("department"))
    for delegation in item.get("delegated_to") or []:
        level, regions = delegation.get("level"), delegation.get("regions") or []
        if level not in REGION_LEVELS or item.get("level") not in LEVELS:
            problems.append(f"item {code}: delegated to level {level}, not one of {REGION_LEVELS}")
            continue
        if REGION_LEVELS.index(level) <= REGION_LEVELS.index(item["level"]):
            problems.append(
                f"item {code}: delegated to level {level}, which is not below its own level "
                f"{item['level']}"
            )
        if not regions:
            problems.append(f"item {code}: delegation to {level} names no regions")
        for region in regions:
            if region not in catalog.regions:
                problems.append(f"item {code}: delegated to {level} in unknown region {region}")
                continue
            covered = [
                r
                for r in catalog.regions.values()
                if r["level"] == level and _contains(catalog, region, r["code"])
            ]
            if not covered:
                problems.append(
                    f"item {code}: delegated to {level} in region {region}, which has no "
                    f"{level}-level region"
                )
            if department is None:
                continue
            levels = (department.get("offices") or {}).get("levels") or []
            for applicant in covered:
                try:
                    office = office_of(department, applicant["code"], level, catalog.regions)
                except PlanError:
                    office = None
                if office is None or catalog.regions.get(office, {}).get("level") not in levels:
                    problems.append(
                        f"item {code}: delegated to {level} in {region}, but "
                        f"{item['department']} has no {level} office for {applicant['code']}"
                    )
    return problems


def _check_departments(catalog):
    problems = []
    for code, department in catalog.departments.items():
        offices = department.get("offices") or {}
        levels = offices.get("levels") or []
        for level in levels:
            if level not in REGION_LEVELS:
                problems.append(
                    f"department {code}: office level {level} is not one of {REGION_LEVELS}"
                )
        for region, office in (offices.get("served_by") or {}).items():
            if region not in catalog.regions:
                problems.append(f"department {code}: served_by names unknown region {region}")
            elif office not in catalog.regions:
                problems.append(
                    f"department {code}: region {region} is served by unknown region {office}"
                )
            elif catalog.regions[office]["level"] not in levels:
                problems.append(
                    f"department {code}: region {region} is served by {office}, "
                    f"where the department has no office"
                )
            elif not _contains(catalog, office, region):
                problems.append(
                    f"department {code}: region {region} is served by {office}, "
                    f"which does not contain it"
                )
    return problems


def _contains(catalog, ancestor, region):
    while region is not None:
        if region == ancestor:
            return True
        region = catalog.regions[region]["parent"]
    return False


def _check_license_types(catalog):
    problems = []
    for code, license_type in catalog.license_types.items():
        if license_type.get("department") not in catalog.departments:
            problems.append(
                f"licence type {code}: unknown department {license_type.get('department')}"
            )
        days = license_type.get("validity_days")
        if days is not None and (not isinstance(days, int) or days <= 0):
            problems.append(
                f"licence type {code}: validity_days must be a positive integer or null"
            )
    for material in catalog.materials.values():
        if material.get("license_type") and material["license_type"] not in catalog.license_types:
            problems.append(
                f"material {material['code']}: unknown licence type {material['license_type']}"
            )
    return problems


def _check_item(catalog, item):
    code = item["code"]
    problems = []
    for key in (
        "name",
        "name_zh",
        "department",
        "level",
        "legal_days",
        "promised_days",
        "materials",
        "legal_basis",
    ):
        if item.get(key) in (None, "", []):
            problems.append(f"item {code}: {key} is missing")
    if item.get("department") and item["department"] not in catalog.departments:
        problems.append(f"item {code}: unknown department {item['department']}")
    if item.get("level") not in LEVELS:
        problems.append(f"item {code}: level {item.get('level')} is not one of {LEVELS}")
    if set(item.get("channels") or []) != set(CHANNELS):
        problems.append(
            f"item {code}: must offer both online and offline channels, has "
            f"{item.get('channels') or []}"
        )
    legal, promised = item.get("legal_days"), item.get("promised_days")
    if not all(isinstance(days, int) and days > 0 for days in (legal, promised)):
        problems.append(f"item {code}: legal_days and promised_days must be positive integers")
    elif promised > legal:
        problems.append(f"item {code}: promised limit {promised} is above the legal limit {legal}")
    for dup in _duplicates(item.get("materials") or []):
        problems.append(f"item {code}: material {dup} listed twice")
    for material in item.get("materials") or []:
        if material not in catalog.materials:
            problems.append(f"item {code}: unknown material {material}")
    license = item.get("license")
    if license and license not in catalog.license_types:
        problems.append(f"item {code}: unknown licence type {license}")
    elif license and catalog.license_types[license].get("department") != item.get("department"):
        problems.append(
            f"item {code}: produces {license}, which "
            f"{catalog.license_types[license].get('department')} issues, not "
            f"{item.get('department')}"
        )
    if not isinstance(item.get("fee", 0), (int, float)) or item.get("fee", 0) < 0:
        problems.append(f"item {code}: fee must be a non-negative number")
    if code not in catalog.scenarios_of_item:
        problems.append(f"item {code}: no package offers it")
    return problems


def _check_scenario(catalog, scenario):
    code = scenario["code"]
    problems = []
    if scenario.get("audience") not in AUDIENCES:
        problems.append(f"scenario {code}: audience must be one of {AUDIENCES}")
    kinds = scenario.get("applicant_kinds") or []
    if not kinds or set(kinds) - set(APPLICANT_KINDS):
        problems.append(f"scenario {code}: applicant_kinds must be some of {APPLICANT_KINDS}")
    members = [entry["item"] for entry in scenario["items"]]
    for dup in _duplicates(members):
        problems.append(f"scenario {code}: item {dup} listed twice")
    dangling = [m for m in members if m not in catalog.items]
    problems.extend(f"scenario {code}: unknown item {m}" for m in dangling)
    if all(entry.get("optional") for entry in scenario["items"]):
        problems.append(f"scenario {code}: has no mandatory item")
    edges = {}
    for entry in scenario["items"]:
        for dependency in entry.get("depends_on", []):
            if dependency not in members:
                problems.append(
                    f"scenario {code}: {entry['item']} depends on {dependency}, "
                    f"which is not in the package"
                )
        edges[entry["item"]] = [d for d in entry.get("depends_on", []) if d in members]
    cycle = find_cycle(edges)
    if cycle:
        problems.append(f"scenario {code}: dependency cycle {' -> '.join(cycle)}")
    if not dangling:
        expected = list(
            dict.fromkeys(
                material
                for entry in scenario["items"]
                for material in catalog.items[entry["item"]].get("materials") or []
            )
        )
        if scenario.get("checklist") != expected:
            problems.append(
                f"scenario {code}: checklist {scenario.get('checklist')} is not the "
                f"de-duplicated union of its items' materials, which is {expected}"
            )
        if not cycle:
            longest = critical_path_days(catalog, scenario)
            if (
                not isinstance(scenario.get("promised_days"), int)
                or scenario["promised_days"] < longest
            ):
                problems.append(
                    f"scenario {code}: promised {scenario.get('promised_days')} "
                    f"working days, but its longest dependency chain takes {longest}"
                )
    if not _text(scenario.get("description_zh")):
        problems.append(f"scenario {code}: description_zh is missing (one sentence in Chinese)")
    problems.extend(_check_form(code, scenario.get("form") or []))
    return problems


def _text(value):
    return isinstance(value, str) and bool(value.strip())


def _check_form(code, form):
    problems = []
    if not form:
        problems.append(f"scenario {code}: has no form fields")
    for dup in _duplicates(f.get("name") for f in form):
        problems.append(f"scenario {code}: form field {dup} is duplicated")
    for dup in _duplicates(f["title_zh"] for f in form if _text(f.get("title_zh"))):
        problems.append(f"scenario {code}: two form fields have the title_zh {dup!r}")
    for field in form:
        problems.extend(_check_form_labels(code, field))
        kind = field.get("type", "string")
        if kind not in FORM_FIELD_TYPES:
            problems.append(
                f"scenario {code}: form field {field.get('name')} has type {kind}, "
                f"not one of {FORM_FIELD_TYPES}"
            )
        if "pattern" in field and kind != "string":
            problems.append(
                f"scenario {code}: form field {field.get('name')} has a pattern but is not a string"
            )
    return problems


def _check_form_labels(code, field):
    """What a citizen reads: a Chinese title, and a Chinese title for each enum value."""
    where = f"scenario {code}: form field {field.get('name')}"
    problems = []
    if not _text(field.get("title_zh")):
        problems.append(f"{where} has no title_zh")
    enum, enum_zh = field.get("enum"), field.get("enum_zh")
    if enum is None:
        if enum_zh is not None:
            problems.append(f"{where} has enum_zh but no enum")
    elif not (isinstance(enum_zh, list) and all(_text(t) for t in enum_zh)):
        problems.append(f"{where} has an enum but no enum_zh (a Chinese title for each value)")
    elif len(enum_zh) != len(enum):
        problems.append(f"{where} has {len(enum)} enum values but {len(enum_zh)} enum_zh titles")
    elif _duplicates(enum_zh):
        problems.append(f"{where} has enum_zh titles listed twice: {_duplicates(enum_zh)}")
    return problems


def _check_offices(catalog):
    """Every (department, level) an item needs has an office for every region of the level."""
    problems = []
    needed = sorted(
        {
            (item["department"], item["level"])
            for item in catalog.items.values()
            if item.get("department") in catalog.departments and item.get("level") in LEVELS
        }
    )
    counties = [r["code"] for r in catalog.regions.values() if r["level"] == "county"]
    for department_code, level in needed:
        department = catalog.departments[department_code]
        offices = department.get("offices") or {}
        levels = offices.get("levels") or []
        served_by = offices.get("served_by") or {}
        missing = set()
        for county in counties:
            try:
                at = office_region(county, level, catalog.regions)
            except ValueError:
                continue  # a county outside the data's regions tree is reported elsewhere
            office = served_by.get(at, at)
            if catalog.regions.get(office, {}).get("level") not in levels:
                missing.add(at)
        if missing:
            items = sorted(
                i["code"]
                for i in catalog.items.values()
                if i["department"] == department_code and i["level"] == level
            )
            shown = ", ".join(sorted(missing)[:5]) + (" ..." if len(missing) > 5 else "")
            problems.append(
                f"department {department_code}: no {level} office for "
                f"{len(missing)} region(s) ({shown}), needed by {', '.join(items)}"
            )
    return problems


def check_calendar(calendar):
    """The calendar's own consistency: known years, weekdays off, weekends worked, no clash."""
    problems = []
    years = set(calendar.get("years") or [])
    for year in calendar.get("provisional") or []:
        if year not in years:
            problems.append(
                f"calendar: provisional year {year} is not among the years {sorted(years)}"
            )
    holidays, workdays = [], []
    for key, days in (("holidays", holidays), ("workdays", workdays)):
        for text in calendar.get(key) or []:
            try:
                days.append(date.fromisoformat(str(text)))
            except ValueError:
                problems.append(f"calendar: {key} entry {text!r} is not an ISO date")
    for day in holidays + workdays:
        if day.year not in years:
            problems.append(f"calendar: {day} is outside the years {sorted(years)}")
    for day in holidays:
        if day.weekday() >= 5:
            problems.append(f"calendar: holiday {day} is a weekend day (list weekdays only)")
    for day in workdays:
        if day.weekday() < 5:
            problems.append(f"calendar: make-up working day {day} is a weekday")
    for day in sorted(set(holidays) & set(workdays)):
        problems.append(f"calendar: {day} is both a holiday and a working day")
    for dup in _duplicates(holidays + workdays):
        problems.append(f"calendar: {dup} is listed twice")
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    data = load_data(argv[0] if argv else DEFAULT_DATA_DIR)
    problems = check(data)
    for problem in problems:
        print(f"catalog check: {problem}", file=sys.stderr)
    print(
        f"catalog check: {len(data['scenarios'])} scenarios, {len(data['items'])} items, "
        f"{len(data['departments'])} departments, {len(data['regions'])} regions: "
        f"{'FAILED (%d problems)' % len(problems) if problems else 'ok'}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
