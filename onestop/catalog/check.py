"""The catalog check: fails the build on data an operator must not load (design §6).

    python -m onestop.catalog.check [data_dir]
"""
import sys
from collections import Counter

from onestop.catalog.domain import (AUDIENCES, CHANNELS, LEVELS, Catalog, find_cycle,
                                    load_data, DEFAULT_DATA_DIR)


def _duplicates(values):
    return sorted(v for v, n in Counter(values).items() if n > 1)


def check(data):
    """Every problem found, as readable strings; an empty list means the data is sound."""
    problems = []
    for name in ("departments", "regions", "materials", "license_types", "items", "scenarios"):
        for dup in _duplicates(entry["code"] for entry in data[name]):
            problems.append(f"{name}: code {dup} is duplicated")
        for dup in _duplicates(entry["name"] for entry in data[name] if name != "regions"):
            problems.append(f"{name}: name {dup!r} is duplicated")
    catalog = Catalog(data)
    for region in catalog.regions.values():
        if region["parent"] is not None and region["parent"] not in catalog.regions:
            problems.append(f"region {region['code']}: parent {region['parent']} does not exist")
    for material in catalog.materials.values():
        if material.get("license_type") and material["license_type"] not in catalog.license_types:
            problems.append(f"material {material['code']}: unknown licence type "
                            f"{material['license_type']}")
    for item in catalog.items.values():
        code = item["code"]
        if item["department"] not in catalog.departments:
            problems.append(f"item {code}: unknown department {item['department']}")
        if item["level"] not in LEVELS:
            problems.append(f"item {code}: level {item['level']} is not one of {LEVELS}")
        if set(item.get("channels", [])) != set(CHANNELS):
            problems.append(f"item {code}: must offer both online and offline channels")
        if item["promised_days"] > item["legal_days"]:
            problems.append(f"item {code}: promised limit {item['promised_days']} is above "
                            f"the legal limit {item['legal_days']}")
        for material in item["materials"]:
            if material not in catalog.materials:
                problems.append(f"item {code}: unknown material {material}")
        if item.get("license") and item["license"] not in catalog.license_types:
            problems.append(f"item {code}: unknown licence type {item['license']}")
    for scenario in catalog.scenarios.values():
        problems.extend(_check_scenario(catalog, scenario))
    return problems


def _check_scenario(catalog, scenario):
    code = scenario["code"]
    problems = []
    if scenario.get("audience") not in AUDIENCES:
        problems.append(f"scenario {code}: audience must be one of {AUDIENCES}")
    members = [entry["item"] for entry in scenario["items"]]
    for dup in _duplicates(members):
        problems.append(f"scenario {code}: item {dup} listed twice")
    dangling = [m for m in members if m not in catalog.items]
    problems.extend(f"scenario {code}: unknown item {m}" for m in dangling)
    edges = {}
    for entry in scenario["items"]:
        for dependency in entry.get("depends_on", []):
            if dependency not in members:
                problems.append(f"scenario {code}: {entry['item']} depends on {dependency}, "
                                f"which is not in the package")
        edges[entry["item"]] = [d for d in entry.get("depends_on", []) if d in members]
    cycle = find_cycle(edges)
    if cycle:
        problems.append(f"scenario {code}: dependency cycle {' -> '.join(cycle)}")
    if not dangling:
        expected = [m["code"] for m in catalog.checklist(scenario)]
        if "checklist" in scenario and scenario["checklist"] != expected:
            problems.append(f"scenario {code}: checklist {scenario['checklist']} is not the "
                            f"de-duplicated union of its items' materials {expected}")
    names = [f["name"] for f in scenario.get("form", [])]
    for dup in _duplicates(names):
        problems.append(f"scenario {code}: form field {dup} is duplicated")
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    data = load_data(argv[0] if argv else DEFAULT_DATA_DIR)
    problems = check(data)
    for problem in problems:
        print(f"catalog check: {problem}", file=sys.stderr)
    print(f"catalog check: {len(data['scenarios'])} scenarios, {len(data['items'])} items, "
          f"{len(data['regions'])} regions: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
