"""What the catalog's HTTP API answers: one function per resource, from a `Catalog` (one
version) and the query its schema validated. Pure: no nameko, no web; refusals are the
domain's (UnknownScenario, PlanError, ...), mapped to HTTP statuses by onestop.common.http."""

from onestop.common.errors import Unknown
from onestop.common.working_days import WorkingCalendar
from services.catalog.domain import schedule
from services.catalog.guides import Guides


def scenarios(catalog, query):
    catalog.known_department(query.get("department"))
    return {"catalog_version": catalog.version, "scenarios": catalog.search_scenarios(**query)}


def items(catalog, query):
    catalog.known_department(query.get("department"))
    limit, offset = query.pop("limit"), query.pop("offset")
    found = catalog.search_items(**query)
    return {
        "catalog_version": catalog.version,
        "total": len(found),
        "limit": limit,
        "offset": offset,
        "items": found[offset : offset + limit],
    }


def plan(catalog, code, query, now):
    """The scheduled plan of a scenario for a county, from `start` (or now)."""
    catalog.county(query["region"])
    planned = catalog.plan(code, query["region"], query["optional"])
    return schedule(planned, WorkingCalendar(catalog.data["calendar"]), query.get("start") or now)


def item(catalog, code):
    """One item with the packages that offer it and its service guide (no region: where to
    apply by level; absent in a version stored before guides existed)."""
    detail = catalog.item_detail(code)
    if not catalog.halls:
        return detail
    return dict(detail, guide=Guides(catalog).item_guide(code))


def scenario_guide(catalog, code, query):
    """The package's one guide; with a region, each item's hall and window there."""
    catalog.scenario(code)
    if not catalog.halls:
        raise Unknown(
            f"catalog version {catalog.version} predates service guides; ask a later version"
        )
    if query.get("region"):
        catalog.county(query["region"])
    return Guides(catalog).scenario_guide(code, query.get("region"), query["optional"])


def departments(catalog):
    return {
        "catalog_version": catalog.version,
        "departments": [catalog.department_view(code) for code in catalog.departments],
    }


def calendar(catalog):
    return dict(catalog.data["calendar"], catalog_version=catalog.version)


def search(catalog, query):
    """GET /api/search: the version's index (built at load) answers."""
    return catalog.search_index().search(query["q"], query["limit"], query["offset"])
