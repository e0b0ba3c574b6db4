"""license: issues signed e-licences on approval; verify, revoke, expire; wallet; reuse by RPC."""
import logging
import uuid

from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.timer import timer
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from onestop.common.catalog_client import CatalogProxy
from onestop.common import outbox
from onestop.common.auth import acting_applicant
from onestop.common.clock import Clock
from onestop.common.collectors import StoreGauges
from onestop.common.http import (http, read_json, load, load_query, BadRequest, Conflict,
                                 NotFound)
from onestop.common.messaging import event_handler
from onestop.common.service import ServiceBase
from onestop.common.mongo import Storage
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import (load_event, APPLICATION_DECIDED, LICENSE_EXPIRED, LICENSE_ISSUED,
                                      LICENSE_REVOKED, ApplicationDecidedSchema)
from services.license import domain
from services.license.keys import SigningKeys
from services.license.schemas import LicenceDocumentSchema, RevocationSchema, WalletQuerySchema
from services.license.store import LicenseStore

log = logging.getLogger(__name__)
ISSUED = Counter("license_licenses_issued_total", "E-licences issued", ["license_type"])
REVOKED = Counter("license_licenses_revoked_total", "E-licences revoked", ["license_type"])
EXPIRED = Counter("license_licenses_expired_total", "E-licences found expired by the sweep",
                  ["license_type"])
VERIFIED = Counter("license_verifications_total", "Verify requests by result", ["result"])
REUSED = Counter("license_reuse_checks_total",
                 "Licences asked for to fill a material (once-only), by outcome",
                 ["license_type", "outcome"])


def store_gauges(store, now):
    gauge = GaugeMetricFamily("license_licenses", "Issued e-licences by type and status now",
                              labels=["license_type", "status"])
    for (license_type, status), count in sorted(store.count_by_type_and_status(now).items()):
        gauge.add_metric([license_type, status], count)
    yield gauge


class LicenseService(ServiceBase):
    name = "license"

    store = Storage(LicenseStore, "license")
    gauges = StoreGauges(LicenseStore, "license", store_gauges)
    catalog = CatalogProxy()
    # life-cycle events are notifications: published with confirms, not mandatory, since
    # having no subscriber yet is normal (the outbox still guarantees the publish happened)
    dispatch = EventDispatcher()
    keys = SigningKeys()
    now = Clock()

    # -- issuing --------------------------------------------------------------
    @event_handler("routing", APPLICATION_DECIDED)
    def handle_application_decided(self, payload):
        decided = load_event(ApplicationDecidedSchema, payload, APPLICATION_DECIDED)
        if decided["decision"]["outcome"] != "approved":
            return
        types = None
        for task in decided["tasks"]:
            if not task.get("license_type") or task.get("state") != "approved":
                continue
            if types is None:
                types = self.catalog.get_license_types(decided.get("catalog_version"))
            if task["license_type"] not in types:
                raise InvalidMessage(f"unknown licence type {task['license_type']!r} in "
                                     f"application {decided['application_id']}")
            self._issue(task, decided, types[task["license_type"]])

    def _issue(self, task, decided, license_type):
        now = self.now()
        licence = domain.sign(domain.build_licence(task, decided, license_type, now),
                              self.keys.signing_key)
        entries = {uuid.uuid4().hex: outbox.entry(
            "event", domain.lifecycle_event(licence, now), event_type=LICENSE_ISSUED)}
        if self.store.insert(licence, entries, now):
            ISSUED.labels(licence["type"]).inc()
            outbox.settle(self.store.licenses, licence["id"], 1, entries, self._publishers())

    # -- HTTP -----------------------------------------------------------------
    @http("GET", "/api/licenses")
    def wallet(self, request):
        """A holder's licences: applicants see their own; counter clerks, supervisors and
        operators name the holder."""
        principal = self.auth.require(request, "applicant", "clerk", "supervisor", "operator")
        holder = load_query(WalletQuerySchema(), request).get("holder")
        if principal.role in ("applicant", "clerk"):
            holder = acting_applicant(principal, holder)
        elif not holder:
            raise BadRequest("name the holder", fields={"holder": ["required"]})
        return {"holder": holder,
                "licenses": domain.wallet_order(self.store.by_holder(holder), self.now())}

    @http("GET", "/api/licenses/keys")
    def public_keys(self, request):
        """The published verification keys (JWK set), for verifying licences offline."""
        return self.keys.jwks

    @http("GET", "/api/licenses/<string:licence_id>")
    def show(self, request, licence_id):
        principal = self.auth.require(request)
        licence = self._get(licence_id)
        if not (principal.role in ("clerk", "supervisor", "operator")
                or principal.is_applicant(licence["holder"]["id_number"])):
            raise NotFound(f"no e-licence {licence_id}")
        return dict(licence, status=domain.status_of(licence, self.now()))

    @http("POST", "/api/licenses/verify")
    def verify(self, request):
        licence = read_json(request)
        errors = LicenceDocumentSchema().validate(licence)
        if errors:
            raise BadRequest("not a licence document", fields=errors)
        stored = self.store.get(licence["id"])
        revoked = bool(stored and stored.get("status") == "revoked"
                       and stored.get("signature") == licence["signature"])
        result = domain.verify(licence, self.keys.public_keys, self.now(), revoked)
        VERIFIED.labels(result).inc()
        body = {"id": licence["id"], "result": result}
        if result == "revoked":
            body.update(revoked_at=stored.get("revoked_at"),
                        revocation_reason=stored.get("revocation_reason"))
        return body

    @http("POST", "/api/licenses/<string:licence_id>/revoke")
    def revoke(self, request, licence_id):
        self.auth.require(request, "operator")
        reason = load(RevocationSchema(), read_json(request))["reason"]
        licence = self._get(licence_id)
        if licence.get("status") == "revoked":
            raise Conflict(f"e-licence {licence_id} was already revoked")
        now = self.now()
        changes = {"status": "revoked", "revoked_at": now.isoformat(),
                   "revocation_reason": reason}
        event = domain.lifecycle_event(licence, now, reason)
        if not self._transition(licence_id, licence.get("status", "valid"), changes,
                                LICENSE_REVOKED, event):
            raise Conflict(f"e-licence {licence_id} changed meanwhile; try again")
        REVOKED.labels(licence["type"]).inc()
        return dict(licence, **changes)

    # -- RPC (once-only) --------------------------------------------------------
    @rpc
    def find_reusable(self, holder_id_number, license_types):
        """license type -> the shared view of the holder's newest valid licence of that type."""
        chosen = domain.newest_valid_by_type(self.store.by_holder(holder_id_number),
                                             set(license_types), self.now())
        for license_type in license_types:
            REUSED.labels(license_type, "found" if license_type in chosen else "none").inc()
        return {t: domain.shared_view(licence) for t, licence in chosen.items()}

    @rpc
    def check_licence(self, licence_id, holder_id_number, license_type):
        """{"license": shared view} when the licence may fill the material, else {"error": why}."""
        licence = self.store.get(licence_id) if isinstance(licence_id, str) else None
        refusal = domain.refusal(licence, licence_id, holder_id_number, license_type,
                                 self.now())
        REUSED.labels(license_type, "refused" if refusal else "accepted").inc()
        if refusal:
            return {"error": refusal}
        return {"license": domain.shared_view(licence)}

    # -- sweeps -----------------------------------------------------------------
    @timer(interval=2)
    def sweep(self):
        """Mark licences past their expiry (publishing license_expired); re-send the outbox."""
        now = self.now()
        for licence in self.store.due_to_expire(now):
            if self._transition(licence["id"], "valid", {"status": "expired",
                                                         "expired_at": now.isoformat()},
                                LICENSE_EXPIRED, domain.lifecycle_event(licence, now)):
                EXPIRED.labels(licence["type"]).inc()
        outbox.sweep(self.store.licenses, self._publishers(), now)

    # -- machinery --------------------------------------------------------------
    def _transition(self, licence_id, from_status, changes, event_type, event):
        entries = {uuid.uuid4().hex: outbox.entry("event", event, event_type=event_type)}
        if not self.store.mark(licence_id, from_status, changes, entries, self.now()):
            return False
        pending, rev = self.store.pending_outbox(licence_id)
        outbox.settle(self.store.licenses, licence_id, rev, pending, self._publishers())
        return True

    def _get(self, licence_id):
        licence = self.store.get(licence_id)
        if licence is None:
            raise NotFound(f"no e-licence {licence_id}")
        return licence

    def _publishers(self):
        return {"event": lambda e: self.dispatch(e["event_type"], e["body"])}
