"""catalog: browse and search packages, items, departments, regions, the calendar and
versions over HTTP; get_scenario and plan over RPC (answered from memory)."""
from marshmallow import ValidationError
from nameko.rpc import rpc

from onestop.common.working_days import WorkingCalendar
from services.catalog.domain import PlanError, UnknownItem, UnknownScenario, schedule
from services.catalog.schemas import (ItemQuery, PlanQuery, ScenarioQuery, VersionQuery,
                                     version_number)
from services.catalog.versions import CatalogData, UnknownVersion
from onestop.common.clock import utcnow
from onestop.common.http import BadRequest, NotFound, http, load_query
from onestop.common.service import ServiceBase


def query_of(schema, request):
    """The query parameters, validated; an empty parameter (`?q=&level=`) counts as absent."""
    return load_query(schema, request, drop_empty=True)


class CatalogService(ServiceBase):
    name = "catalog"

    catalog = CatalogData()

    @property
    def store(self):
        return self.catalog.store

    # -- HTTP: packages ---------------------------------------------------------
    @http("GET", "/api/scenarios")
    def list_scenarios(self, request):
        query = query_of(ScenarioQuery(), request)
        current = self._catalog(query.pop("version", None))
        self._known_department(current, query.get("department"))
        return {"catalog_version": current.version,
                "scenarios": current.search_scenarios(**query)}

    @http("GET", "/api/scenarios/<string:code>")
    def show_scenario(self, request, code):
        return self._scenario(request, code, lambda catalog: catalog.scenario_view(code))

    @http("GET", "/api/scenarios/<string:code>/form")
    def show_form_schema(self, request, code):
        return self._scenario(request, code,
                              lambda catalog: catalog.scenario_view(code)["form_schema"])

    @http("GET", "/api/scenarios/<string:code>/plan")
    def show_plan(self, request, code):
        query = query_of(PlanQuery(), request)
        current = self._catalog(query.get("version"))
        region = current.regions.get(query["region"])
        if region is None or region["level"] != "county":
            raise BadRequest("validation failed", fields={"region": [
                "name a county or district (a county-level code from GET /api/regions)"]})
        try:
            plan = current.plan(code, query["region"], query["optional"])
        except UnknownScenario:
            raise NotFound(f"no scenario {code!r}; see GET /api/scenarios") from None
        except PlanError as exc:
            raise BadRequest("validation failed", fields={exc.field: [str(exc)]}) from None
        return schedule(plan, WorkingCalendar(current.data["calendar"]),
                        query.get("start") or utcnow())

    # -- HTTP: items, departments, regions, calendar -------------------------------------
    @http("GET", "/api/items")
    def list_items(self, request):
        query = query_of(ItemQuery(), request)
        current = self._catalog(query.pop("version", None))
        self._known_department(current, query.get("department"))
        limit, offset = query.pop("limit"), query.pop("offset")
        found = current.search_items(**query)
        return {"catalog_version": current.version, "total": len(found), "limit": limit,
                "offset": offset, "items": found[offset:offset + limit]}

    @http("GET", "/api/items/<string:code>")
    def show_item(self, request, code):
        current = self._catalog(query_of(VersionQuery(), request).get("version"))
        try:
            return current.item_detail(code)
        except UnknownItem:
            raise NotFound(f"no item {code!r}; see GET /api/items") from None

    @http("GET", "/api/departments")
    def list_departments(self, request):
        current = self._catalog(query_of(VersionQuery(), request).get("version"))
        return {"catalog_version": current.version,
                "departments": [current.department_view(c) for c in current.departments]}

    @http("GET", "/api/departments/<string:code>")
    def show_department(self, request, code):
        current = self._catalog(query_of(VersionQuery(), request).get("version"))
        if code not in current.departments:
            raise NotFound(f"no department {code!r}; see GET /api/departments")
        return current.department_view(code, with_offices=True)

    @http("GET", "/api/regions")
    def list_regions(self, request):
        regions = list(self.catalog.get().regions.values())
        level = request.args.get("level")
        parent = request.args.get("parent")
        if level:
            regions = [r for r in regions if r["level"] == level]
        if parent:
            regions = [r for r in regions if r["parent"] == parent]
        return {"regions": regions}

    @http("GET", "/api/calendar")
    def show_calendar(self, request):
        current = self._catalog(query_of(VersionQuery(), request).get("version"))
        return dict(current.data["calendar"], catalog_version=current.version)

    # -- HTTP: versions -------------------------------------------------------------------
    @http("GET", "/api/catalog/versions")
    def list_versions(self, request):
        return {"versions": self.catalog.listing()}

    @http("GET", "/api/catalog/versions/<string:old>/diff/<string:new>")
    def diff_versions(self, request, old, new):
        errors = {}
        for name, text in (("from", old), ("to", new)):
            try:
                version_number(text)
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise BadRequest("validation failed", fields=errors)
        try:
            return self.catalog.diff(int(old), int(new))
        except UnknownVersion as exc:
            raise NotFound(f"no catalog version {exc.args[0]}; see GET /api/catalog/versions") \
                from None

    def _catalog(self, version=None):
        try:
            return self.catalog.get(version)
        except UnknownVersion:
            raise NotFound(f"no catalog version {version}; see GET /api/catalog/versions") \
                from None

    def _scenario(self, request, code, view):
        current = self._catalog(query_of(VersionQuery(), request).get("version"))
        try:
            return view(current)
        except UnknownScenario:
            raise NotFound(f"no scenario {code!r}; see GET /api/scenarios") from None

    @staticmethod
    def _known_department(current, department):
        if department and department not in current.departments:
            raise BadRequest("validation failed", fields={"department": [
                f"unknown department {department!r}; see GET /api/departments"]})

    # -- RPC ------------------------------------------------------------------------------
    @rpc
    def get_scenario(self, code, version=None):
        """The scenario view, or None when the scenario does not exist."""
        try:
            return self.catalog.get(version).scenario_view(code)
        except UnknownScenario:
            return None

    @rpc
    def get_region(self, code, version=None):
        return self.catalog.get(version).regions.get(code)

    @rpc
    def plan(self, code, region, optional_items=(), version=None):
        """The tasks of one application; {"error": ...} when the request cannot be planned."""
        try:
            return self.catalog.get(version).plan(code, region, optional_items)
        except (UnknownScenario, PlanError) as exc:
            return {"error": str(exc)}

    @rpc
    def get_calendar(self, version=None):
        """The working-day calendar data (holidays, make-up working days)."""
        return self.catalog.get(version).data["calendar"]

    @rpc
    def get_license_types(self, version=None):
        return self.catalog.get(version).license_types
