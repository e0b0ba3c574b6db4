"""The catalog as pure data and functions: no nameko, no pymongo.

A `Catalog` is built from the data files (data/catalog/, docs/catalog.md); it
answers what a scenario needs, searches items and packages, plans the tasks of
an application and schedules them on the working-day calendar.
"""

import hashlib
import json
from collections import OrderedDict
from pathlib import Path

import yaml

from onestop.common.errors import Invalid, Unknown
from services.catalog.search import SearchIndex

LEVELS = ("province", "city", "county")  # an item's own level
# a region's level; township (乡镇/街道) offices handle only what is delegated to them
REGION_LEVELS = LEVELS + ("township",)
AUDIENCES = ("individual", "enterprise", "project")
CHANNELS = ("online", "offline")
FORM_FIELD_TYPES = ("string", "integer", "number", "boolean", "date")
DATA_FILES = (
    "departments",
    "regions",
    "materials",
    "license_types",
    "items",
    "scenarios",
    "calendar",
    "synonyms",
    "halls",
)
OPTIONAL_DATA_FILES = ("synonyms",)  # an absent one reads as {}
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "catalog"


def _read_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or []


def load_data(data_dir=DEFAULT_DATA_DIR):
    """Read every catalog data file into one dict, keyed by file name.

    Items may live in items.yaml, in items/*.yaml (read in name order), or both; their
    service guides in guides/*.yaml, each a mapping from item code to guide.
    """
    data_dir = Path(data_dir)
    data = {}
    for name in DATA_FILES:
        if name == "items":
            continue
        path = data_dir / f"{name}.yaml"
        if name in OPTIONAL_DATA_FILES and not path.exists():
            data[name] = {}
            continue
        data[name] = _read_yaml(path)
    # a guide file maps item code -> guide; kept as a list of entries with a code, like the
    # other data, so an item guided twice is visible to the check and diffs work by code
    data["guides"] = [
        dict(guide or {}, code=code)
        for path in sorted((data_dir / "guides").glob("*.yaml"))
        for code, guide in (_read_yaml(path) or {}).items()
    ]
    items = []
    if (data_dir / "items.yaml").exists():
        items.extend(_read_yaml(data_dir / "items.yaml"))
    for path in sorted((data_dir / "items").glob("*.yaml")):
        items.extend(_read_yaml(path))
    data["items"] = items
    return data


def data_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class UnknownScenario(Unknown):
    def __init__(self, code):
        super().__init__(f"no scenario {code!r}; see GET /api/scenarios")
        self.code = code


class UnknownItem(Unknown):
    def __init__(self, code):
        super().__init__(f"no item {code!r}; see GET /api/items")
        self.code = code


class UnknownDepartment(Unknown):
    def __init__(self, code):
        super().__init__(f"no department {code!r}; see GET /api/departments")
        self.code = code


class PlanError(Invalid):
    """The request for a plan cannot be satisfied (unknown region, unknown optional item)."""

    def __init__(self, message, field="request"):
        super().__init__(message, field)


def office_region(region_code, level, regions):
    """The region at `level` that contains `region_code` (GB/T 2260 prefixes).

    43 00 00 province, 43 01 00 prefecture, 43 01 02 county/district, 430102 001
    township/street (GB/T 10114: the county's code and three digits).
    """
    if level == "province":
        code = region_code[:2] + "0000"
    elif level == "city":
        code = region_code[:4] + "00"
    elif level == "county":
        code = region_code[:6]
    else:
        code = region_code
    if code not in regions or regions[code].get("level", level) != level:
        raise PlanError(f"no region {code} for level {level}", "region")
    return code


def lineage(region_code, regions):
    """The region and every region above it, nearest first."""
    found = []
    while region_code is not None and region_code in regions and region_code not in found:
        found.append(region_code)
        region_code = regions[region_code].get("parent")
    return found


def handling_level(item, region_code, regions):
    """The level at which `item` is handled for an applicant in `region_code`.

    An item's `delegated_to` entries ({level, regions}) move it to a lower level inside
    the regions they name (and every region within them); the first entry that applies
    wins. An entry applies only when the applicant's region is at or below its level: a
    township delegation needs the applicant's township, so an applicant who names only
    the county is handled at the item's own level. Elsewhere, the item's own level.
    """
    region = regions.get(region_code)
    if region is None:
        return item["level"]
    depth = REGION_LEVELS.index(region["level"])
    within = set(lineage(region_code, regions))
    for delegation in item.get("delegated_to") or []:
        if depth >= REGION_LEVELS.index(delegation["level"]) and within & set(
            delegation["regions"]
        ):
            return delegation["level"]
    return item["level"]


def office_of(department, region_code, level, regions):
    """Where a department decides an item of `level` for an applicant in `region_code`.

    The region at the item's level, unless the department has no office of its own
    there and the data names the office that serves it (offices.served_by).
    """
    at = office_region(region_code, level, regions)
    offices = department.get("offices", {})
    return (offices.get("served_by") or {}).get(at, at)


def form_json_schema(scenario):
    """The scenario's form as a JSON Schema (draft 2020-12) a generic client can render.

    Chinese labels ride along as annotations a validator ignores: "x-title-zh" (the field's
    title_zh) and "x-enum-titles-zh" (enum_zh, parallel to "enum"); "title" stays English.
    A version stored before the labels existed has neither.
    """
    properties, required = {}, []
    for field in scenario.get("form", []):
        prop = {"title": field.get("title", field["name"])}
        if field.get("title_zh"):
            prop["x-title-zh"] = field["title_zh"]
        kind = field.get("type", "string")
        if kind == "date":
            prop.update(type="string", format="date")
        elif kind in ("string", "integer", "boolean", "number"):
            prop["type"] = kind
        if "enum" in field:
            prop["enum"] = list(field["enum"])
            if field.get("enum_zh"):
                prop["x-enum-titles-zh"] = list(field["enum_zh"])
        for key in ("pattern", "minimum", "maximum", "maxLength", "minLength", "description"):
            if key in field:
                prop[key] = field[key]
        if kind == "string" and "enum" not in field:
            prop.setdefault("minLength", 1)
            prop.setdefault("maxLength", 200)
        properties[field["name"]] = prop
        if field.get("required", True):
            required.append(field["name"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:onestop:scenario:{scenario['code']}:form",
        "title": scenario["name"],
        **({"x-title-zh": scenario["name_zh"]} if scenario.get("name_zh") else {}),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _matches(query, *texts):
    query = query.casefold()
    return any(query in (text or "").casefold() for text in texts)


class Catalog:
    """One version of the catalog, indexed for the questions services ask.

    Views are computed once per version and kept: get_scenario and plan are served
    from memory after load.
    """

    def __init__(self, data, version=1):
        self.version = version
        self.data = data
        self.departments = {d["code"]: d for d in data["departments"]}
        self.regions = {r["code"]: r for r in data["regions"]}
        self.materials = {m["code"]: m for m in data["materials"]}
        self.license_types = {t["code"]: t for t in data["license_types"]}
        self.items = {i["code"]: i for i in data["items"]}
        self.scenarios = OrderedDict((s["code"], s) for s in data["scenarios"])
        # versions stored before guides and halls existed have neither
        self.guides = {g["code"]: g for g in data.get("guides") or []}
        self.halls = data.get("halls") or {}
        self.scenarios_of_item = {}
        for scenario in self.scenarios.values():
            for entry in scenario["items"]:
                self.scenarios_of_item.setdefault(entry["item"], []).append(scenario["code"])
        self._views = {}
        self._search_index = None

    # -- search (services/catalog/search.py) ---------------------------------
    @property
    def search_ready(self):
        """Whether this version's search index is built (the loader builds the current one)."""
        return self._search_index is not None

    def search_index(self):
        """The search index of this version, built on first use and kept."""
        if self._search_index is None:
            self._search_index = SearchIndex(self)
        return self._search_index

    # -- scenarios ------------------------------------------------------------
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
        provided = self.provided_in_package(scenario)
        views = []
        for material, needed_by in seen.items():
            view = dict(self.material_view(material), items=needed_by)
            if material in provided:
                view["provided_by"] = provided[material]
            views.append(view)
        return views

    def provided_in_package(self, scenario):
        """material -> the package item whose e-licence supplies it to the items that need it.

        Holds when every other item needing the material comes after that item in the
        package's DAG: the applicant is not asked for what the package itself produces
        (once-only), the department gets it from the task's inputs.
        """
        entries = {e["item"]: e for e in scenario["items"]}
        producers = {
            self.items[c].get("license"): c for c in entries if self.items[c].get("license")
        }

        def ancestors(code, found=None):
            found = set() if found is None else found
            for dependency in entries.get(code, {}).get("depends_on", []):
                if dependency not in found:
                    found.add(dependency)
                    ancestors(dependency, found)
            return found

        provided = {}
        for code in entries:
            for material in self.items[code]["materials"]:
                producer = producers.get(self.materials.get(material, {}).get("license_type"))
                if producer is None or material in provided:
                    continue
                needing = [
                    c for c in entries if material in self.items[c]["materials"] and c != producer
                ]
                if needing and all(producer in ancestors(c) for c in needing):
                    provided[material] = producer
        return provided

    def material_view(self, code):
        material = self.materials[code]
        view = {"code": code, "name": material["name"], "name_zh": material.get("name_zh", "")}
        if material.get("license_type"):
            view["license_type"] = material["license_type"]
        return view

    def item_view(self, code):
        try:
            item = self.items[code]
        except KeyError:
            raise UnknownItem(code) from None
        department = self.departments[item["department"]]
        view = {
            key: item[key]
            for key in (
                "code",
                "name",
                "level",
                "legal_days",
                "promised_days",
                "channels",
                "materials",
            )
        }
        view.update(
            name_zh=item.get("name_zh", ""),
            department=item["department"],
            department_name=department["name"],
            department_name_zh=department.get("name_zh", ""),
            license_type=item.get("license"),
            fee=item.get("fee", 0),
            legal_basis=item.get("legal_basis", ""),
            # where it is handled at a lower level than its own (docs/catalog.md)
            delegated_to=item.get("delegated_to") or [],
        )
        return view

    def item_detail(self, code):
        """An item with the packages that offer it and its materials by name."""
        view = self.item_view(code)
        view.update(
            scenarios=list(self.scenarios_of_item.get(code, [])),
            audiences=self.audiences_of_item(code),
            material_details=[self.material_view(m) for m in view["materials"]],
            catalog_version=self.version,
        )
        return view

    def audiences_of_item(self, code):
        return sorted({self.scenarios[s]["audience"] for s in self.scenarios_of_item.get(code, [])})

    def scenario_summary(self, code):
        scenario = self.scenario(code)
        return {
            "code": code,
            "name": scenario["name"],
            "name_zh": scenario.get("name_zh", ""),
            "description": scenario.get("description", ""),
            "description_zh": scenario.get("description_zh", ""),
            "audience": scenario["audience"],
            "applicant_kinds": scenario["applicant_kinds"],
            "promised_days": scenario["promised_days"],
            "departments": sorted({self.items[e["item"]]["department"] for e in scenario["items"]}),
            "levels": sorted(
                {self.items[e["item"]]["level"] for e in scenario["items"]}, key=LEVELS.index
            ),
            "item_count": len(scenario["items"]),
            "optional_item_count": sum(1 for e in scenario["items"] if e.get("optional")),
        }

    def scenario_view(self, code):
        """Everything a generic client needs to apply: items, checklist, form schema."""
        if code not in self._views:
            scenario = self.scenario(code)
            view = self.scenario_summary(code)
            view.update(
                catalog_version=self.version,
                items=[
                    dict(
                        self.item_view(e["item"]),
                        optional=e.get("optional", False),
                        depends_on=e.get("depends_on", []),
                    )
                    for e in scenario["items"]
                ],
                checklist=self.checklist(scenario),
                form_schema=form_json_schema(scenario),
                form_fields=scenario.get("form", []),
            )
            self._views[code] = view
        return self._views[code]

    # -- search -----------------------------------------------------------------
    def search_items(self, q=None, department=None, level=None, audience=None, scenario=None):
        """Items whose code or name (English or Chinese) contains q, filtered; in code order."""
        found = []
        for code in sorted(self.items):
            item = self.items[code]
            if department and item["department"] != department:
                continue
            if level and item["level"] != level:
                continue
            if audience and audience not in self.audiences_of_item(code):
                continue
            if scenario and scenario not in self.scenarios_of_item.get(code, []):
                continue
            if q and not _matches(
                q,
                code,
                item["name"],
                item.get("name_zh"),
                self.departments[item["department"]]["name"],
            ):
                continue
            found.append(dict(self.item_view(code), scenarios=self.scenarios_of_item.get(code, [])))
        return found

    def search_scenarios(self, q=None, audience=None, department=None, level=None):
        """Packages whose code, name, description (English or Chinese) or one of whose items'
        names contains q, filtered; those whose code or name matches come first."""
        found = []
        for code, scenario in self.scenarios.items():
            summary = self.scenario_summary(code)
            if audience and scenario["audience"] != audience:
                continue
            if department and department not in summary["departments"]:
                continue
            if level and level not in summary["levels"]:
                continue
            rank = 0
            if q and not _matches(q, code, scenario["name"], scenario.get("name_zh")):
                rank = 1
                item_names = [
                    text
                    for e in scenario["items"]
                    for text in (
                        self.items[e["item"]]["name"],
                        self.items[e["item"]].get("name_zh"),
                    )
                ]
                descriptions = (scenario.get("description"), scenario.get("description_zh"))
                if not _matches(q, *descriptions, *item_names):
                    continue
            found.append((rank, summary))
        # packages named by the words first, then those that mention them (stable order)
        return [summary for _, summary in sorted(found, key=lambda pair: pair[0])]

    # -- planning -----------------------------------------------------------------
    def selected_items(self, scenario, optional_items=()):
        """The item codes an application covers: all mandatory items plus chosen optional ones."""
        optional = {e["item"] for e in scenario["items"] if e.get("optional")}
        unknown = set(optional_items) - optional
        if unknown:
            raise PlanError(
                f"not optional items of {scenario['code']}: {sorted(unknown)}; "
                f"choose from {sorted(optional)}",
                "optional",
            )
        return [
            e["item"]
            for e in scenario["items"]
            if not e.get("optional") or e["item"] in set(optional_items)
        ]

    def plan(self, code, region, optional_items=()):
        """The tasks of one application: item, department office, level, dependencies, limits."""
        scenario = self.scenario(code)
        if region not in self.regions:
            raise PlanError(f"unknown region {region}", "region")
        chosen = set(self.selected_items(scenario, optional_items))
        tasks = []
        for entry in scenario["items"]:
            if entry["item"] not in chosen:
                continue
            item = self.items[entry["item"]]
            level = handling_level(item, region, self.regions)
            at = office_of(self.departments[item["department"]], region, level, self.regions)
            tasks.append(
                {
                    "item_code": item["code"],
                    "item_name": item["name"],
                    "department": item["department"],
                    # the level that handles it here: the item's own, or a delegated one
                    "level": level,
                    "delegated": level != item["level"],
                    "region": at,
                    "office": f"{item['department']}.{at}",
                    # a dependency on an optional item that was not chosen does not apply
                    "depends_on": [d for d in entry.get("depends_on", []) if d in chosen],
                    "promised_days": item["promised_days"],
                    "legal_days": item["legal_days"],
                    "license_type": item.get("license"),
                    # the item's own standard materials (a correction asks among these)
                    "materials": list(item["materials"]),
                    "fee": item.get("fee", 0),  # CNY; the decision waits for its payment
                }
            )
        return {
            "scenario": code,
            "catalog_version": self.version,
            "promised_days": scenario["promised_days"],
            "fee_total": sum(t["fee"] for t in tasks),
            "tasks": tasks,
        }

    def county(self, code):
        """A region a plan may be asked for: a county or district, or a township or street
        inside one (a 400 naming the field)."""
        region = self.regions.get(code)
        if region is None or region["level"] not in ("county", "township"):
            raise Invalid(
                "name a county or district, or a township or street "
                "(a county- or township-level code from GET /api/regions)",
                "region",
            )
        return region

    def regions_view(self, level=None, parent=None):
        return [
            r
            for r in self.regions.values()
            if (not level or r["level"] == level) and (not parent or r["parent"] == parent)
        ]

    def office_name(self, department_code, region_code):
        """'长沙市公安局': the region's name and the department's office title at its level."""
        region = self.regions[region_code]
        department = self.departments[department_code]
        title = department.get("office_names_zh", {}).get(
            region["level"], department.get("name_zh", "")
        )
        return f"{region['name']}{title}"

    def offices(self, department_code):
        """Every region with an office of the department, and the regions each one serves."""
        department = self.departments[department_code]
        levels = department.get("offices", {}).get("levels", [])
        served_by = department.get("offices", {}).get("served_by") or {}
        offices = OrderedDict()
        for region in self.data["regions"]:
            if region["level"] in levels and region["code"] not in served_by:
                offices[region["code"]] = {
                    "region": region["code"],
                    "level": region["level"],
                    "name": self.office_name(department_code, region["code"]),
                    "serves": [],
                }
        for region_code, office in served_by.items():
            if office in offices:
                offices[office]["serves"].append(region_code)
        return list(offices.values())

    def known_department(self, code):
        """A department named as a search filter must exist (a 400 naming the field)."""
        if code and code not in self.departments:
            raise Invalid(f"unknown department {code!r}; see GET /api/departments", "department")

    def department_view(self, code, with_offices=False):
        if code not in self.departments:
            raise UnknownDepartment(code)
        department = self.departments[code]
        items = [c for c in sorted(self.items) if self.items[c]["department"] == code]
        view = {
            "code": code,
            "name": department["name"],
            "name_zh": department.get("name_zh", ""),
            "levels": department.get("offices", {}).get("levels", []),
            "served_by": department.get("offices", {}).get("served_by") or {},
            "note": department.get("note", ""),
            "item_count": len(items),
        }
        if with_offices:
            view.update(items=items, offices=self.offices(code))
        return view


def schedule(plan, calendar, start):
    """Promised dates for a plan's tasks from `start`, following the DAG.

    A task starts when its last dependency is promised to finish (or at `start`)
    and is promised within its promised_days working days from there; its legal
    date likewise from its dependencies' legal dates. The package's own promise is
    counted from `start`.
    """
    tasks = {t["item_code"]: t for t in plan["tasks"]}
    starts, promised, legal = {}, {}, {}

    def visit(code):
        if code in promised:
            return
        depends_on = tasks[code]["depends_on"]
        for dependency in depends_on:
            visit(dependency)
        starts[code] = max([promised[d] for d in depends_on], default=start)
        promised[code] = calendar.add_working_days(starts[code], tasks[code]["promised_days"])
        legal[code] = calendar.add_working_days(
            max([legal[d] for d in depends_on], default=start), tasks[code]["legal_days"]
        )

    for code in tasks:
        visit(code)
    critical_due = max(promised.values(), default=start)
    return dict(
        plan,
        start=start.isoformat(),
        tasks=[
            dict(
                task,
                starts=starts[task["item_code"]].isoformat(),
                promised_due=promised[task["item_code"]].isoformat(),
                legal_due=legal[task["item_code"]].isoformat(),
            )
            for task in plan["tasks"]
        ],
        promised_due=calendar.add_working_days(start, plan["promised_days"]).isoformat(),
        critical_path_due=critical_due.isoformat(),
        critical_path_days=calendar.working_days_between(start, critical_due),
        calendar_provisional=any(
            calendar.is_provisional(moment) for moment in [start, critical_due, *legal.values()]
        ),
    )


def critical_path_days(catalog, scenario):
    """The longest chain of promised working days through a scenario's items (all of them)."""
    entries = {e["item"]: e for e in scenario["items"] if e["item"] in catalog.items}
    memo = {}

    def finish(code):
        if code not in memo:
            memo[code] = 0  # guards against cycles; the check reports those on its own
            deps = [d for d in entries[code].get("depends_on", []) if d in entries]
            memo[code] = catalog.items[code]["promised_days"] + max(
                [finish(d) for d in deps] or [0]
            )
        return memo[code]

    return max([finish(code) for code in entries] or [0])


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
                return path[path.index(child) :] + [child]
            elif colour.get(child) == white:
                colour[child] = grey
                stack.append((child, iter(edges.get(child, []))))
                path.append(child)
    return None
