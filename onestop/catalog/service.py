"""catalog: browse scenarios and regions over HTTP; get_scenario and plan over RPC."""
from nameko.rpc import rpc

from onestop.catalog.domain import PlanError, UnknownScenario
from onestop.catalog.versions import CatalogData, UnknownVersion
from onestop.common.http import http, NotFound, BadRequest
from onestop.common.service import ServiceBase


class CatalogService(ServiceBase):
    name = "catalog"

    catalog = CatalogData()

    @property
    def store(self):
        return self.catalog.store

    # -- HTTP ---------------------------------------------------------------
    @http("GET", "/api/scenarios")
    def list_scenarios(self, request):
        current = self.catalog.get()
        audience = request.args.get("audience")
        scenarios = [current.scenario_summary(code) for code in current.scenarios]
        if audience:
            scenarios = [s for s in scenarios if s["audience"] == audience]
        return {"catalog_version": current.version, "scenarios": scenarios}

    @http("GET", "/api/scenarios/<string:code>")
    def show_scenario(self, request, code):
        try:
            return self._catalog(request.args.get("version")).scenario_view(code)
        except UnknownScenario:
            raise NotFound(f"no scenario {code!r}") from None

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

    @http("GET", "/api/catalog/versions")
    def list_versions(self, request):
        return {"versions": self.catalog.listing()}

    def _catalog(self, version):
        if version is not None and not str(version).isdigit():
            raise BadRequest("version must be a number", fields={"version": ["not a number"]})
        try:
            return self.catalog.get(version)
        except UnknownVersion:
            raise NotFound(f"no catalog version {version}") from None

    # -- RPC ----------------------------------------------------------------
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
