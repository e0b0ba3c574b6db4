"""The hall's acceptance (受理): a clerk of the service hall accepts an application, and its
tasks go out to the departments, or refuses to accept it (不予受理) with reasons, and it ends.

    GET  /api/hall/applications                           awaiting acceptance in the region
    POST /api/hall/applications/{application_id}/acceptance   accept or refuse

Clerks authenticate with a bearer token of role `clerk` whose `region` claim is their hall's
region; they act for applications of that region and the regions below it (a provincial
hall for the province). Only with ACCEPTANCE=manual do applications wait for them; with
ACCEPTANCE=auto (the default) routing accepts on arrival (docs/adr/0023-acceptance-and-notices.md).
The decision is applied synchronously (a compare-and-set write, routing/workflows.py); the
notices it issues are signed and served by the license service.
"""

from onestop.common.http import http, load, read_json
from onestop.contracts.envelope import schema_instance
from services.routing import views
from services.routing.schemas import AcceptanceDecisionSchema


class HallApi:
    """Mixed into RoutingService (its store, auth and workflows are routing's)."""

    @http("GET", "/api/hall/applications")
    def hall_applications(self, request):
        clerk = self.auth.require(request, "clerk")
        return views.acceptance_listing(self.store.accepting(), clerk)

    @http("POST", "/api/hall/applications/<string:application_id>/acceptance")
    def hall_acceptance(self, request, application_id):
        clerk = self.auth.require(request, "clerk")
        decision = load(schema_instance(AcceptanceDecisionSchema), read_json(request))
        views.application_to_accept(self.store.get(application_id), application_id, clerk)
        reasons = [r.strip() for r in decision["reasons"] if r.strip()]
        self.workflows.decide_acceptance(application_id, decision["decision"], clerk.sub, reasons)
        workflow = self.store.get(application_id)
        wanted = "accepted" if decision["decision"] == "accept" else "refused"
        if workflow["acceptance"]["state"] != wanted:  # another clerk decided meanwhile
            views.application_to_accept(workflow, application_id, clerk)
        return views.acceptance_answer(workflow)
