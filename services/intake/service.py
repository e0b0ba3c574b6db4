"""intake: apply, upload, status. Persists first, publishes from its outbox."""

from onestop.common.auth import acting_applicant, may_read_application
from onestop.common.catalog_client import CatalogProxy
from onestop.common.clock import Clock
from onestop.common.config import env
from onestop.common.errors import Invalid, Unknown
from onestop.common.http import http, json_response, load, load_query, read_json
from werkzeug.wrappers import Response
from onestop.common.messaging import event_handler
from onestop.common.mongo import Storage
from onestop.common.outbox import Outbox, event, with_ids
from onestop.common.rpc import TimedRpcProxy
from onestop.common.service import ServiceBase
from onestop.contracts.events import (
    APPLICATION_CORRECTED,
    APPLICATION_SUBMITTED,
    APPLICATION_UPDATED,
    APPLICATION_WITHDRAWN,
    ApplicationUpdatedSchema,
    load_event,
)
from services.intake import domain, once_only, uploads, views
from services.intake.metrics import REJECTED_INPUT, SUBMITTED, upload_accepted
from services.intake.schemas import (
    ApplicationListQuerySchema,
    ApplicationSchema,
    ChecklistQuerySchema,
    CorrectionSchema,
    idempotency_key,
    withdrawal_reason,
)
from services.intake.store import IntakeStore


class IntakeService(ServiceBase):
    name = "intake"

    store = Storage(IntakeStore, "intake")
    outbox = Outbox("applications", mandatory_events=True)  # an unrouted event is an error
    catalog = CatalogProxy()
    license = TimedRpcProxy("license")
    now = Clock()

    @http("POST", "/api/uploads")
    def upload(self, request):
        uploader = self.auth.require(request, "applicant", "clerk")
        data, filename, content_type = uploads.read_file(request)
        doc = self.store.save_upload(
            data, filename, content_type, self.now(), uploaded_by=uploads.owner(uploader)
        )
        upload_accepted(content_type, len(data))
        return 201, uploads.receipt(doc)

    @http("POST", "/api/applications")
    def submit(self, request):
        principal = self.auth.require(request, "applicant", "clerk")
        key = idempotency_key(request)
        body = load(ApplicationSchema(), read_json(request))
        domain.check_submitter(principal, body)
        scenario, form, materials = self._checked(body, principal)
        now = self.now()
        submitted, application = domain.submission(
            body, scenario, form, materials, principal, key, now
        )
        entries = with_ids([event(APPLICATION_SUBMITTED, submitted)])
        existing = self.store.insert_application(application, entries, now)
        if existing is not None:
            return json_response(
                views.accepted(domain.replayed(existing, application)),
                202,
                headers={"Idempotent-Replayed": "true"},
            )
        SUBMITTED.labels(scenario["code"], body["channel"]).inc()
        self.outbox.publish(application["_id"], 1, entries, alone=True)
        return 202, views.accepted(application)

    def _checked(self, body, principal):
        """The scenario, normalised form and recorded materials of a valid application;
        an invalid one is refused (Invalid) and counted."""
        scenario = self.catalog.get_scenario(body["scenario"])
        try:
            domain.known_scenario(scenario, body["scenario"])
            region = self.catalog.get_region(body["region"], scenario["catalog_version"])
            files = self.store.own_uploads(
                domain.upload_ids(body["materials"]), uploads.owner(principal)
            )
            needed = domain.required_materials(scenario, body["optional_items"])
            licenses = once_only.resolve(body, scenario, needed, self.license)
            form = domain.checked_form(body, scenario, region, files, licenses)
        except Invalid:
            REJECTED_INPUT.labels(scenario["code"] if scenario else "unknown").inc()
            raise
        return scenario, form, once_only.materials_of(body, scenario, needed, licenses)

    @http("GET", "/api/applications")
    def list_applications(self, request):
        """An applicant's own applications, a clerk's own submissions; supervisors and
        operators see all (optionally one applicant's). Officers work from their task list."""
        principal = self.auth.require(request, "applicant", "clerk", "supervisor", "operator")
        query = load_query(ApplicationListQuerySchema(), request)
        docs, more = self.store.list_applications(
            domain.list_criteria(principal, query), query["limit"], query["offset"]
        )
        return views.application_list(query, docs, more)

    @http("GET", "/api/applications/<string:application_id>")
    def show(self, request, application_id):
        return views.application_view(self._application(application_id, request))

    @http("POST", "/api/applications/<string:application_id>/corrections")
    def correct(self, request, application_id):
        """Supply the materials the departments asked for; only their tasks go back."""
        principal, application = self._application(
            application_id, request, "applicant", "clerk", with_principal=True
        )
        materials = load(CorrectionSchema(), read_json(request))["materials"]
        files = self.store.own_uploads(domain.upload_ids(materials), uploads.owner(principal))
        now = self.now()
        corrected = domain.correction(application, materials, files, now)
        # the corrected materials' files stay readable with the application's (material_file)
        self._publish(
            application_id,
            APPLICATION_CORRECTED,
            corrected,
            now,
            {f"corrected_materials.{corrected['correction_id']}": materials},
        )
        return 202, views.correction_accepted(corrected)

    @http("POST", "/api/applications/<string:application_id>/withdraw")
    def withdraw(self, request, application_id):
        """Withdraw before the decision: the open tasks are cancelled."""
        application = self._application(application_id, request, "applicant", "clerk")
        now = self.now()
        withdrawn = domain.withdrawal(application, withdrawal_reason(request), now)
        self._publish(
            application_id, APPLICATION_WITHDRAWN, withdrawn, now, {"withdrawal_requested_at": now}
        )
        return 202, views.withdrawal_accepted(application_id)

    @http("GET", "/api/applications/<string:application_id>/materials/<string:file_id>")
    def material_file(self, request, application_id, file_id):
        """One uploaded file of an application's materials (as submitted or corrected), for
        those who may read the application: an officer of an office holding one of its
        tasks views it before deciding. A file the application does not name is a 404, as
        an unknown application: an upload id alone opens nothing."""
        doc = self._application(application_id, request)
        upload = self.store.get_upload(file_id) if file_id in views.attached_uploads(doc) else None
        if upload is None:
            raise Unknown(f"no material file {file_id} in application {application_id}")
        return Response(
            self.store.read_upload(upload), 200, headers=uploads.download_headers(upload)
        )

    @http("GET", "/api/scenarios/<string:code>/checklist")
    def checklist(self, request, code):
        """A scenario's checklist for one holder: what their valid e-licences fill (once-only).
        A counter clerk gets the plain checklist: they never read a citizen's licences (the
        citizen shows a licence's id at the counter)."""
        principal = self.auth.require(request, "applicant", "clerk")
        claimed = load_query(ChecklistQuerySchema(), request).get("holder")
        scenario = domain.listed_scenario(self.catalog.get_scenario(code), code)
        if principal.role == "clerk" and not claimed:
            return once_only.checklist_view(scenario, {}, None)
        holder = acting_applicant(principal, claimed)
        held = once_only.held_licenses(scenario, holder, self.license)
        return once_only.checklist_view(scenario, held, holder)

    @http("GET", "/api/applications/<string:application_id>/receipt")
    def receipt(self, request, application_id):
        """The receipt of an application (a counter prints it; its QR code is the URL)."""
        doc = self._application(application_id, request)
        scenario = self.catalog.get_scenario(doc["scenario"], doc["catalog_version"]) or {}
        name = scenario.get("name_zh") or scenario.get("name")
        return views.receipt(doc, env("PUBLIC_BASE_URL", "http://127.0.0.1:8000"), name)

    @event_handler("routing", APPLICATION_UPDATED)
    def handle_application_updated(self, payload):
        view = load_event(ApplicationUpdatedSchema, payload, APPLICATION_UPDATED)
        self.store.apply_view(view["application_id"], view, self.now())

    def _application(self, application_id, request, *roles, with_principal=False):
        """The application if the caller may see it (and has one of `roles`, when given);
        Unknown (404) for everyone else, so a guessed id reveals nothing."""
        principal = self.auth.require(request, *roles)
        doc = self.store.get_application(application_id)
        offices = {t.get("office") for t in (doc or {}).get("tasks", [])}
        if doc is None or not may_read_application(
            principal,
            doc["applicant"]["id_number"],
            doc.get("submitted_by"),
            offices,
            doc.get("region"),
        ):
            raise Unknown(f"no application {application_id}")
        return (principal, doc) if with_principal else doc

    def _publish(self, application_id, event_type, body, now, changes=None):
        """Store the event in the application's outbox (with `changes`), then publish it."""
        entries = with_ids([event(event_type, body)])
        written = self.store.add_events(application_id, entries, now, changes)
        self.outbox.publish(
            application_id,
            written["rev"],
            entries,
            alone=set(written.get("outbox") or {}) == set(entries),
        )
