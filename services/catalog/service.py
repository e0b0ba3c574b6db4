"""catalog: packages, items, departments, regions, calendar and versions over HTTP (answers
in views.py); get_scenario and plan over RPC, answered from memory."""

from onestop.common.clock import utcnow
from onestop.common.http import http, load, load_query
from onestop.common.messaging import rpc
from onestop.common.service import ServiceBase
from services.catalog import views
from services.catalog.domain import PlanError, UnknownScenario
from services.catalog.metrics import SCENARIO_REQUESTS, SEARCHES
from services.catalog.schemas import (
    DiffPath,
    GuideQuery,
    ItemQuery,
    PlanQuery,
    ScenarioQuery,
    SearchQuery,
    VersionQuery,
)
from services.catalog.versions import CatalogData


class CatalogService(ServiceBase):
    name = "catalog"

    catalog = CatalogData()

    @property
    def store(self):  # what /ready pings
        return self.catalog.store

    @http("GET", "/api/scenarios")
    def list_scenarios(self, request):
        query = self._query(ScenarioQuery(), request)
        return views.scenarios(self.catalog.get(query.pop("version", None)), query)

    @http("GET", "/api/scenarios/<string:code>")
    def show_scenario(self, request, code):
        return self._scenario_view(code, self._version(request), "view")

    @http("GET", "/api/scenarios/<string:code>/form")
    def show_form_schema(self, request, code):
        return self._scenario_view(code, self._version(request), "form")["form_schema"]

    @http("GET", "/api/scenarios/<string:code>/plan")
    def show_plan(self, request, code):
        query = self._query(PlanQuery(), request)
        plan = views.plan(self.catalog.get(query.get("version")), code, query, utcnow())
        SCENARIO_REQUESTS.labels(code, "plan").inc()
        return plan

    @http("GET", "/api/scenarios/<string:code>/guide")
    def show_guide(self, request, code):
        query = self._query(GuideQuery(), request)
        guide = views.scenario_guide(self.catalog.get(query.get("version")), code, query)
        SCENARIO_REQUESTS.labels(code, "guide").inc()
        return guide

    @http("GET", "/api/items")
    def list_items(self, request):
        query = self._query(ItemQuery(), request)
        return views.items(self.catalog.get(query.pop("version", None)), query)

    @http("GET", "/api/items/<string:code>")
    def show_item(self, request, code):
        return views.item(self.catalog.get(self._version(request)), code)

    @http("GET", "/api/search")
    def search(self, request):
        query = self._query(SearchQuery(), request)
        answer = views.search(self.catalog.get(query.pop("version", None)), query)
        SEARCHES.labels("found" if answer["total"] else "none").inc()
        return answer

    @http("GET", "/api/departments")
    def list_departments(self, request):
        return views.departments(self.catalog.get(self._version(request)))

    @http("GET", "/api/departments/<string:code>")
    def show_department(self, request, code):
        return self.catalog.get(self._version(request)).department_view(code, with_offices=True)

    @http("GET", "/api/regions")
    def list_regions(self, request):
        return {
            "regions": self.catalog.get().regions_view(
                request.args.get("level"), request.args.get("parent")
            )
        }

    @http("GET", "/api/calendar")
    def show_calendar(self, request):
        return views.calendar(self.catalog.get(self._version(request)))

    @http("GET", "/api/catalog/versions")
    def list_versions(self, request):
        return {"versions": self.catalog.listing()}

    @http("GET", "/api/catalog/versions/<string:old>/diff/<string:new>")
    def diff_versions(self, request, old, new):
        versions = load(DiffPath(), {"from": old, "to": new})
        return self.catalog.diff(versions["old"], versions["new"])

    @staticmethod
    def _query(schema, request):
        """The query, validated; an empty parameter (`?q=&level=`) counts as absent."""
        return load_query(schema, request, drop_empty=True)

    def _version(self, request):
        return self._query(VersionQuery(), request).get("version")

    def _scenario_view(self, code, version, kind):
        view = self.catalog.get(version).scenario_view(code)
        SCENARIO_REQUESTS.labels(code, kind).inc()
        return view

    @rpc
    def get_scenario(self, code, version=None):
        """The scenario view, or None when the scenario does not exist."""
        try:
            return self._scenario_view(code, version, "view")
        except UnknownScenario:
            return None

    @rpc
    def get_region(self, code, version=None):
        return self.catalog.get(version).regions.get(code)

    @rpc
    def get_department(self, code, version=None):
        """The department (code, names, offices), or None when the catalog has none."""
        return self.catalog.get(version).departments.get(code)

    @rpc
    def plan(self, code, region, optional_items=(), version=None):
        """The tasks of one application; {"error": ...} when the request cannot be planned."""
        try:
            plan = self.catalog.get(version).plan(code, region, optional_items)
        except (UnknownScenario, PlanError) as exc:
            return {"error": str(exc)}
        SCENARIO_REQUESTS.labels(code, "plan").inc()
        return plan

    @rpc
    def get_calendar(self, version=None):
        """The working-day calendar data (holidays, make-up working days)."""
        return self.catalog.get(version).data["calendar"]

    @rpc
    def get_license_types(self, version=None):
        return self.catalog.get(version).license_types
