"""intake: apply, upload, status. Persists first, publishes from its outbox."""
import hashlib
import json
import uuid

from marshmallow import ValidationError
from nameko.events import EventDispatcher
from nameko.timer import timer
from prometheus_client import Counter, Histogram

from onestop.common.catalog_client import CatalogProxy
from onestop.common import outbox
from onestop.common.auth import Forbidden, acting_applicant, may_read_application
from onestop.common.clock import Clock
from onestop.common.config import env
from onestop.common.http import (http, read_json, load, load_query, json_response, BadRequest,
                                 Conflict, NotFound, PayloadTooLarge, UnsupportedMediaType)
from onestop.common.messaging import event_handler
from onestop.common.rpc import TimedRpcProxy
from onestop.common.service import ServiceBase
from onestop.common.mongo import Storage
from onestop.contracts.events import (load_event, APPLICATION_CORRECTED, APPLICATION_WITHDRAWN,
                                      APPLICATION_SUBMITTED, APPLICATION_UPDATED,
                                      ApplicationUpdatedSchema)
from services.intake.domain import check_correction, validate_application
from services.intake.schemas import ApplicationSchema, CorrectionSchema, WithdrawalSchema
from services.intake.schemas import ApplicationListQuerySchema, ChecklistQuerySchema
from services.intake.store import IntakeStore, DuplicateApplication
from services.intake import once_only
from services.intake.domain import required_materials

SUBMITTED = Counter("intake_applications_submitted_total", "Applications accepted",
                    ["scenario", "channel"])
REJECTED_INPUT = Counter("intake_applications_invalid_total",
                         "Applications refused for bad input", ["scenario"])
UPLOADS = Counter("intake_uploads_total", "Uploads accepted", ["content_type"])
UPLOAD_BYTES = Histogram("intake_upload_size_bytes", "Size of accepted uploads",
                         buckets=(1e3, 1e4, 1e5, 1e6, 5e6, 1e7))

# accepted upload types, recognised by their first bytes as well as their declared type
UPLOAD_TYPES = {
    "application/pdf": b"%PDF",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}


class IntakeService(ServiceBase):
    name = "intake"

    store = Storage(IntakeStore, "intake")
    catalog = CatalogProxy()
    license = TimedRpcProxy("license")
    dispatch = EventDispatcher(mandatory=True)
    now = Clock()

    # -- uploads ------------------------------------------------------------
    @http("POST", "/api/uploads")
    def upload(self, request):
        uploader = self.auth.require(request, "applicant", "clerk")
        limit = int(env("UPLOAD_MAX_BYTES", 10 * 1024 * 1024))
        if request.content_length and request.content_length > limit + 4096:
            raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType("upload a file as multipart/form-data in the field 'file'")
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("no file", fields={"file": ["a file is required in field 'file'"]})
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"uploads are limited to {limit} bytes")
        content_type = upload.mimetype
        magic = UPLOAD_TYPES.get(content_type)
        if magic is None:
            raise UnsupportedMediaType(
                f"type {content_type or 'unknown'} is not accepted",
                fields={"file": [f"accepted types: {', '.join(UPLOAD_TYPES)}"]})
        if not data.startswith(magic):
            raise BadRequest("file content does not match its type",
                             fields={"file": [f"content is not {content_type}"]})
        doc = self.store.save_upload(data, (upload.filename or "upload")[:200], content_type,
                                     self.now(), uploaded_by=uploader.sub)
        UPLOADS.labels(content_type).inc()
        UPLOAD_BYTES.observe(len(data))
        return 201, {"file_id": doc["_id"], "size": doc["size"], "sha256": doc["sha256"],
                     "content_type": content_type}

    # -- applications -------------------------------------------------------
    @http("POST", "/api/applications")
    def submit(self, request):
        principal = self.auth.require(request, "applicant", "clerk")
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 128:
            raise BadRequest("an Idempotency-Key header (1 to 128 characters) is required",
                             fields={"Idempotency-Key": ["required, at most 128 characters"]})
        raw = read_json(request)
        body = load(ApplicationSchema(), raw)
        check_submitter(principal, body)
        scenario = self.catalog.get_scenario(body["scenario"])
        if scenario is None:
            REJECTED_INPUT.labels("unknown").inc()
            raise BadRequest("validation failed", fields={
                "scenario": [f"unknown scenario {body['scenario']!r}; see GET /api/scenarios"]})
        region = self.catalog.get_region(body["region"], scenario["catalog_version"])
        uploads = self.store.existing_uploads(m["file_id"] for m in body["materials"]
                                              if m["file_id"])
        needed = required_materials(scenario, body["optional_items"])
        licences = once_only.resolve(body, scenario, needed, self.license)
        try:
            form = validate_application(body, scenario, region, uploads, licences)
        except ValidationError as exc:
            REJECTED_INPUT.labels(scenario["code"]).inc()
            raise BadRequest("validation failed", fields=exc.messages) from None
        materials = once_only.materials_of(body, scenario, needed, licences)
        return self._accept(key, body, form, scenario, materials, principal)

    def _accept(self, key, body, form, scenario, materials, principal):
        now = self.now()
        application_id = uuid.uuid4().hex
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, default=str)
                                     .encode()).hexdigest()
        event = {
            "application_id": application_id, "scenario": scenario["code"],
            "catalog_version": scenario["catalog_version"], "applicant": body["applicant"],
            "region": body["region"], "channel": body["channel"], "form": form,
            "materials": materials, "optional_items": body["optional_items"],
            "submitted_at": now.isoformat(),
            "submitted_by": {"role": principal.role, "sub": principal.sub},
        }
        message_id = uuid.uuid4().hex
        doc = dict(event, _id=application_id, status="submitted", tasks=[], decision=None,
                   view_rev=0, rev=1, created_at=now, updated_at=now, updated_ts=now.timestamp(),
                   fingerprint=fingerprint,
                   idempotency_key=f"{body['applicant']['id_number']}:{key}",
                   outbox={message_id: outbox.entry("event", event,
                                                    event_type=APPLICATION_SUBMITTED)},
                   outbox_pending=True)
        try:
            self.store.insert_application(doc)
        except DuplicateApplication as dup:
            if dup.existing["fingerprint"] != fingerprint:
                raise Conflict("this Idempotency-Key was used for a different application",
                               fields={"Idempotency-Key": ["reused with a different body"]})
            return json_response(self._accepted(dup.existing), 202,
                                 headers={"Idempotent-Replayed": "true"})
        SUBMITTED.labels(scenario["code"], body["channel"]).inc()
        outbox.settle(self.store.applications, application_id, 1, doc["outbox"],
                      self._publishers(), alone=True)
        return 202, self._accepted(doc)

    @staticmethod
    def _accepted(doc):
        return {"id": doc["_id"], "status": doc["status"],
                "status_url": f"/api/applications/{doc['_id']}"}

    @http("GET", "/api/applications")
    def list_applications(self, request):
        """An applicant's own applications, a clerk's own submissions; supervisors and
        operators see all (optionally one applicant's). Officers work from their task list."""
        principal = self.auth.require(request, "applicant", "clerk", "supervisor", "operator")
        query = load_query(ApplicationListQuerySchema(), request)
        found = {}
        if principal.role == "applicant":
            if query["applicant"] not in (None, principal.sub):
                raise Forbidden("an applicant sees only their own applications",
                                fields={"applicant": ["only your own ID number"]})
            found["applicant.id_number"] = principal.sub
        elif principal.role == "clerk":
            found["submitted_by.sub"] = principal.sub
            found["submitted_by.role"] = "clerk"
        if query["applicant"] and principal.role != "applicant":
            found["applicant.id_number"] = query["applicant"]
        for name in ("status", "scenario"):
            if query[name]:
                found[name] = query[name]
        docs, more = self.store.list_applications(found, query["limit"], query["offset"])
        return {"limit": query["limit"], "offset": query["offset"],
                "next_offset": query["offset"] + len(docs) if more else None,
                "applications": [application_summary(d) for d in docs]}

    @http("GET", "/api/applications/<string:application_id>")
    def show(self, request, application_id):
        return application_view(self._application(application_id, request))

    @http("POST", "/api/applications/<string:application_id>/corrections")
    def correct(self, request, application_id):
        """Supply the materials the departments asked for; only their tasks go back."""
        doc = self._application(application_id, request, "applicant", "clerk")
        body = load(CorrectionSchema(), read_json(request))
        if doc["status"] != "awaiting_correction":
            raise Conflict(f"the application is {doc['status']}; nothing awaits a correction")
        uploads = self.store.existing_uploads(m["file_id"] for m in body["materials"])
        task_ids, errors = check_correction(doc.get("tasks", []), body["materials"], uploads)
        if errors:
            raise BadRequest("validation failed", fields={"materials": errors})
        now = self.now()
        event = {"application_id": application_id, "correction_id": uuid.uuid4().hex,
                 "task_ids": task_ids, "materials": body["materials"],
                 "corrected_at": now.isoformat()}
        self._publish_later(application_id, APPLICATION_CORRECTED, event, now)
        return 202, {"id": application_id, "correction_id": event["correction_id"],
                     "tasks": task_ids, "status_url": f"/api/applications/{application_id}"}

    @http("POST", "/api/applications/<string:application_id>/withdraw")
    def withdraw(self, request, application_id):
        """Withdraw before the decision: the open tasks are cancelled."""
        doc = self._application(application_id, request, "applicant", "clerk")
        body = load(WithdrawalSchema(), read_json(request)) if request.get_data() else (
            WithdrawalSchema().load({}))
        if doc["status"] in ("approved", "rejected", "withdrawn"):
            raise Conflict(f"the application is already {doc['status']}")
        now = self.now()
        event = {"application_id": application_id, "reason": body["reason"],
                 "withdrawn_at": now.isoformat()}
        self._publish_later(application_id, APPLICATION_WITHDRAWN, event, now,
                            {"withdrawal_requested_at": now})
        return 202, {"id": application_id, "status_url": f"/api/applications/{application_id}"}

    def _application(self, application_id, request, *roles):
        """The application if the caller may see it (and has one of `roles`, when given);
        404 for everyone else, so a guessed id reveals nothing."""
        principal = self.auth.require(request, *roles)
        doc = self.store.get_application(application_id)
        submitted_by = (doc or {}).get("submitted_by")
        offices = {t.get("office") for t in (doc or {}).get("tasks", [])}
        if doc is None or not may_read_application(principal, doc["applicant"]["id_number"],
                                                   submitted_by, offices):
            raise NotFound(f"no application {application_id}")
        return doc

    def _publish_later(self, application_id, event_type, event, now, changes=None):
        """Persist the event in the application's outbox, then publish it."""
        message_id = uuid.uuid4().hex
        entry = outbox.entry("event", event, event_type=event_type)
        doc = self.store.add_to_outbox(application_id, message_id, entry, now, changes)
        outbox.settle(self.store.applications, application_id, doc["rev"], {message_id: entry},
                      self._publishers(), alone=set(doc.get("outbox") or {}) == {message_id})

    @http("GET", "/api/scenarios/<string:code>/checklist")
    def checklist(self, request, code):
        """A scenario's checklist for one holder: what their valid e-licences fill (once-only)."""
        principal = self.auth.require(request, "applicant", "clerk")
        holder = acting_applicant(principal,
                                  load_query(ChecklistQuerySchema(), request).get("holder"))
        scenario = self.catalog.get_scenario(code)
        if scenario is None:
            raise NotFound(f"no scenario {code!r}; see GET /api/scenarios")
        wanted = sorted(set(once_only.covering_types(scenario).values()))
        held = self.license.find_reusable(holder, wanted) if wanted else {}
        return once_only.checklist_view(scenario, held, holder)

    # -- events and sweeps --------------------------------------------------
    @event_handler("routing", APPLICATION_UPDATED)
    def handle_application_updated(self, payload):
        view = load_event(ApplicationUpdatedSchema, payload, APPLICATION_UPDATED)
        self.store.apply_view(view["application_id"], view, self.now())

    @timer(interval=2)
    def sweep_outbox(self):
        outbox.sweep(self.store.applications, self._publishers(), self.now())

    def _publishers(self):
        return {"event": lambda e: self.dispatch(e["event_type"], e["body"])}


def check_submitter(principal, body):
    """Applicants apply for themselves online or by mobile; counter clerks apply on behalf
    of the applicant at the counter."""
    if principal.role == "applicant":
        if body["applicant"]["id_number"] != principal.sub:
            raise Forbidden("an applicant may apply only for themselves")
        if body["channel"] == "counter":
            raise Forbidden("the counter channel is for counter clerks",
                            fields={"channel": ["online or mobile for applicants"]})
    elif body["channel"] != "counter":
        raise Forbidden("a counter clerk applies through the counter channel",
                        fields={"channel": ["counter for clerks"]})


def application_summary(doc):
    """One line of a list of applications."""
    decision = doc.get("decision") or {}
    return {
        "id": doc["_id"], "scenario": doc["scenario"], "catalog_version": doc["catalog_version"],
        "status": doc["status"], "channel": doc["channel"], "region": doc["region"],
        "applicant": {"kind": doc["applicant"]["kind"], "name": doc["applicant"]["name"]},
        "submitted_at": doc["submitted_at"], "outcome": decision.get("outcome"),
        "decided_at": decision.get("decided_at"),
        "status_url": f"/api/applications/{doc['_id']}",
    }


def application_view(doc):
    """The applicant-facing status: tasks with their item, department, state and reason."""
    return {
        "id": doc["_id"], "scenario": doc["scenario"], "catalog_version": doc["catalog_version"],
        "status": doc["status"], "channel": doc["channel"], "region": doc["region"],
        "applicant": {"kind": doc["applicant"]["kind"], "name": doc["applicant"]["name"]},
        "submitted_at": doc["submitted_at"], "optional_items": doc.get("optional_items", []),
        "materials": doc["materials"],
        "tasks": doc.get("tasks", []), "decision": doc.get("decision"),
    }
