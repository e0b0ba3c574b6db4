"""The catalog as pure data and functions: no nameko, no pymongo.

A `Catalog` is built from the data files (data/catalog/*.yaml); it answers what
a scenario needs, plans the tasks of an application, and checks its own data.
"""
import hashlib
import json
from collections import OrderedDict
from pathlib import Path

import yaml

LEVELS = ("province", "city", "county")
AUDIENCES = ("individual", "enterprise", "project")
CHANNELS = ("online", "offline")
DATA_FILES = ("departments", "regions", "materials", "license_types", "items", "scenarios",
              "calendar")
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "catalog"


def load_data(data_dir=DEFAULT_DATA_DIR):
    """Read every catalog data file into one dict, keyed by file name."""
    data = {}
    for name in DATA_FILES:
        with open(Path(data_dir) / f"{name}.yaml", encoding="utf-8") as handle:
            data[name] = yaml.safe_load(handle) or []
    return data


def data_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


class UnknownScenario(KeyError):
    pass


class PlanError(ValueError):
    """The request for a plan cannot be satisfied (unknown region, unknown optional item)."""


def office_region(region_code, level, regions):
    """The region whose office handles an item of `level` for an applicant in `region_code`.

    GB/T 2260: 43 00 00 province, 43 01 00 prefecture, 43 01 02 county/district.
    """
    if level == "province":
        code = region_code[:2] + "0000"
    elif level == "city":
        code = region_code[:4] + "00"
    else:
        code = region_code
    if code not in regions:
        raise PlanError(f"no region {code} for level {level}")
    return code


def form_json_schema(scenario):
    """The scenario's form as a JSON Schema (draft 2020-12) a generic client can render."""
    properties, required = {}, []
    for field in scenario.get("form", []):
        prop = {"title": field.get("title", field["name"])}
        kind = field.get("type", "string")
        if kind == "date":
            prop.update(type="string", format="date")
        elif kind in ("string", "integer", "boolean", "number"):
            prop["type"] = kind
        if "enum" in field:
            prop["enum"] = list(field["enum"])
        for key in ("pattern", "minimum", "maximum", "maxLength", "minLength", "description"):
            if key in field:
                prop[key] = field[key]
        if kind == "string" and "maxLength" not in prop:
            prop["maxLength"] = 200
        properties[field["name"]] = prop
        if field.get("required", True):
            required.append(field["name"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": scenario["name"],
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


class Catalog:
    """One version of the catalog, indexed for the questions services ask."""

    def __init__(self, data, version=1):
        self.version = version
        self.data = data
        self.departments = {d["code"]: d for d in data["departments"]}
        self.regions = {r["code"]: r for r in data["regions"]}
        self.materials = {m["code"]: m for m in data["materials"]}
        self.license_types = {t["code"]: t for t in data["license_types"]}
        self.items = {i["code"]: i for i in data["items"]}
        self.scenarios = OrderedDict((s["code"], s) for s in data["scenarios"])

    def scenario(self, code):
        try:
            return self.scenarios[code]
        except KeyError:
            raise UnknownScenario(code) from None

    def checklist(self, scenario, items=None):
        """The de-duplicated material list of the given items (all, by default), in order."""
        codes = items if items is not None else [e["item"] for e in scenario["items"]]
        seen = OrderedDict()
        for code in codes:
            for material in self.items[code]["materials"]:
                seen.setdefault(material, []).append(code)
        return [dict(self.material_view(m), items=needed_by) for m, needed_by in seen.items()]

    def material_view(self, code):
        material = self.materials[code]
        view = {"code": code, "name": material["name"]}
        if material.get("license_type"):
            view["license_type"] = material["license_type"]
        return view

    def item_view(self, code):
        item = self.items[code]
        department = self.departments[item["department"]]
        view = {key: item[key] for key in ("code", "name", "level", "legal_days",
                                           "promised_days", "channels", "materials")}
        view.update(department=item["department"], department_name=department["name"],
                    license_type=item.get("license"), fee=item.get("fee", 0),
                    legal_basis=item.get("legal_basis", ""))
        return view

    def scenario_summary(self, code):
        scenario = self.scenario(code)
        return {
            "code": code, "name": scenario["name"], "name_zh": scenario.get("name_zh", ""),
            "audience": scenario["audience"], "applicant_kinds": scenario["applicant_kinds"],
            "promised_days": scenario["promised_days"],
            "departments": sorted({self.items[e["item"]]["department"]
                                   for e in scenario["items"]}),
            "item_count": len(scenario["items"]),
        }

    def scenario_view(self, code):
        """Everything a generic client needs to apply: items, checklist, form schema."""
        scenario = self.scenario(code)
        view = self.scenario_summary(code)
        view.update(
            catalog_version=self.version,
            items=[dict(self.item_view(e["item"]), optional=e.get("optional", False),
                        depends_on=e.get("depends_on", [])) for e in scenario["items"]],
            checklist=self.checklist(scenario),
            form_schema=form_json_schema(scenario),
            form_fields=scenario.get("form", []),
        )
        return view

    def selected_items(self, scenario, optional_items=()):
        """The item codes an application covers: all mandatory items plus chosen optional ones."""
        optional = {e["item"] for e in scenario["items"] if e.get("optional")}
        unknown = set(optional_items) - optional
        if unknown:
            raise PlanError(f"not optional items of {scenario['code']}: {sorted(unknown)}")
        return [e["item"] for e in scenario["items"]
                if not e.get("optional") or e["item"] in set(optional_items)]

    def plan(self, code, region, optional_items=()):
        """The tasks of one application: item, department office, level, dependencies, limits."""
        scenario = self.scenario(code)
        if region not in self.regions:
            raise PlanError(f"unknown region {region}")
        selected = self.selected_items(scenario, optional_items)
        chosen = set(selected)
        tasks = []
        for entry in scenario["items"]:
            if entry["item"] not in chosen:
                continue
            item = self.items[entry["item"]]
            at = office_region(region, item["level"], self.regions)
            tasks.append({
                "item_code": item["code"], "item_name": item["name"],
                "department": item["department"], "level": item["level"],
                "region": at, "office": f"{item['department']}.{at}",
                # a dependency on an optional item that was not chosen does not apply
                "depends_on": [d for d in entry.get("depends_on", []) if d in chosen],
                "promised_days": item["promised_days"], "legal_days": item["legal_days"],
                "materials": list(item["materials"]),
                "license_type": item.get("license"),
            })
        return {"scenario": code, "catalog_version": self.version,
                "promised_days": scenario["promised_days"], "tasks": tasks}


def find_cycle(edges):
    """A cycle in a dependency graph {node: [depends_on...]}, or None (iterative DFS)."""
    white, grey, black = 0, 1, 2
    colour = {n: white for n in edges}
    for root in edges:
        if colour[root] != white:
            continue
        stack = [(root, iter(edges[root]))]
        path = [root]
        colour[root] = grey
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = black
                stack.pop()
                path.pop()
            elif colour.get(child, black) == grey:
                return path[path.index(child):] + [child]
            elif colour.get(child) == white:
                colour[child] = grey
                stack.append((child, iter(edges.get(child, []))))
                path.append(child)
    return None
