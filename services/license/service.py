"""license: issues signed e-licences on approval; verify, revoke, expire; wallet; reuse by RPC."""

from nameko.timer import timer

from onestop.common.auth import acting_applicant
from onestop.common.catalog_client import CatalogProxy
from onestop.common.clock import Clock
from onestop.common.collectors import StoreGauges
from onestop.common.errors import Conflicting, Invalid, Unknown
from onestop.common.http import http, load, load_query, read_json, validated
from onestop.common.messaging import event_handler, rpc
from onestop.common.mongo import Storage
from onestop.common.outbox import Outbox, event, with_ids
from onestop.common.service import ServiceBase
from onestop.contracts.events import (
    APPLICATION_DECIDED,
    LICENSE_EXPIRED,
    LICENSE_ISSUED,
    LICENSE_REVOKED,
    NOTICE_ISSUED,
    ApplicationDecidedSchema,
    NoticeIssuedSchema,
    load_event,
)
from services.license import domain, notices
from services.license.keys import SigningKeys
from services.license.metrics import (
    EXPIRED,
    ISSUED,
    NOTICES_SIGNED,
    NOTICES_VERIFIED,
    REUSED,
    REVOKED,
    VERIFIED,
    store_gauges,
)
from services.license.schemas import (
    LicenseDocumentSchema,
    NoticeDocumentSchema,
    RevocationSchema,
    WalletQuerySchema,
)
from services.license.store import LicenseStore


class LicenseService(ServiceBase):
    name = "license"

    store = Storage(LicenseStore, "license")
    outbox = Outbox("licenses")  # life-cycle events: confirmed, not mandatory
    gauges = StoreGauges(LicenseStore, "license", store_gauges)
    catalog = CatalogProxy()
    keys = SigningKeys()
    now = Clock()

    @event_handler("routing", APPLICATION_DECIDED)
    def handle_application_decided(self, payload):
        decided = load_event(ApplicationDecidedSchema, payload, APPLICATION_DECIDED)
        types = (
            self.catalog.get_license_types(decided.get("catalog_version"))
            if domain.licensed_tasks(decided)
            else {}
        )
        for task, license_type in domain.licenses_to_issue(decided, types):
            now = self.now()
            license = domain.sign(
                domain.build_license(task, decided, license_type, now), self.keys.signing_key
            )
            entries = with_ids([event(LICENSE_ISSUED, domain.lifecycle_event(license, now))])
            if self.store.insert(license, entries, now):
                ISSUED.labels(license["type"]).inc()
                self.outbox.publish(license["id"], 1, entries)

    @event_handler("routing", NOTICE_ISSUED)
    def handle_notice_issued(self, payload):
        """Sign a formal notice with the licences' key and keep it (idempotent by its id)."""
        issued = load_event(NoticeIssuedSchema, payload, NOTICE_ISSUED)
        notice = notices.sign(notices.build(issued), self.keys.signing_key)
        if self.store.insert_notice(notice, issued.get("submitted_by")):
            NOTICES_SIGNED.labels(notice["kind"]).inc()

    @http("GET", "/api/applications/<string:application_id>/notices")
    def application_notices(self, request, application_id):
        principal = self.auth.require(request)
        listed = notices.readable(principal, self.store.notices_of(application_id), application_id)
        return {"application_id": application_id, "notices": listed}

    @http("GET", "/api/applications/<string:application_id>/notices/<string:notice_id>")
    def application_notice(self, request, application_id, notice_id):
        principal = self.auth.require(request)
        listed = notices.readable(principal, self.store.notices_of(application_id), application_id)
        found = next((n for n in listed if n["id"] == notice_id), None)
        if found is None:
            raise Unknown(f"no notice {notice_id} for application {application_id}")
        return found

    @http("POST", "/api/notices/verify")
    def verify_notice(self, request):
        notice = validated(NoticeDocumentSchema(), read_json(request), "not a notice document")
        result, body = notices.verification(notice, self.keys.public_keys)
        NOTICES_VERIFIED.labels(result).inc()
        return body

    @http("GET", "/api/licenses")
    def wallet(self, request):
        """A holder's licences: applicants see their own; supervisors (of the issuing
        region, when their token names one) and operators name the holder. A counter clerk
        never reads a wallet (the citizen shows a licence at the counter)."""
        principal = self.auth.require(request, "applicant", "supervisor", "operator")
        holder = load_query(WalletQuerySchema(), request).get("holder")
        if principal.role == "applicant":
            holder = acting_applicant(principal, holder)
        elif not holder:
            raise Invalid("name the holder", field="holder")
        licenses = [
            license
            for license in self.store.by_holder(holder)
            if domain.in_scope(principal, license)
        ]
        return {"holder": holder, "licenses": domain.wallet_order(licenses, self.now())}

    @http("GET", "/api/licenses/keys")
    def public_keys(self, request):
        """The published verification keys (JWK set), for verifying licences offline."""
        return self.keys.jwks

    @http("GET", "/api/licenses/<string:license_id>")
    def show(self, request, license_id):
        principal = self.auth.require(request)
        license = self.store.get(license_id)
        if license is None or not (
            (principal.role in ("supervisor", "operator") and domain.in_scope(principal, license))
            or principal.is_applicant(license["holder"]["id_number"])
        ):
            raise Unknown(f"no e-licence {license_id}")
        return dict(license, status=domain.status_of(license, self.now()))

    @http("POST", "/api/licenses/verify")
    def verify(self, request):
        license = validated(LicenseDocumentSchema(), read_json(request), "not a licence document")
        stored = self.store.get(license["id"])
        result, body = domain.verification(license, stored, self.keys.public_keys, self.now())
        VERIFIED.labels(result).inc()
        return body

    @http("GET", "/api/licenses/<string:license_id>/verification")
    def public_verification(self, request, license_id):
        """Open to anyone (a scanned QR code names only the licence's id): the stored
        licence verified, with the holder's personal data masked."""
        result, body = domain.public_verification(
            self.store.get(license_id), license_id, self.keys.public_keys, self.now()
        )
        VERIFIED.labels(result).inc()
        return body

    @http("POST", "/api/licenses/<string:license_id>/revoke")
    def revoke(self, request, license_id):
        self.auth.require(request, "operator")
        reason = load(RevocationSchema(), read_json(request))["reason"]
        license = self.store.get(license_id)
        changes = domain.revocation(license, license_id, reason, self.now())
        if not self._transition(license, changes, LICENSE_REVOKED, reason):
            raise Conflicting(f"e-licence {license_id} changed meanwhile; try again")
        REVOKED.labels(license["type"]).inc()
        return dict(license, **changes)

    @rpc
    def find_reusable(self, holder_id_number, license_types):
        """license type -> the shared view of the holder's newest valid licence of that type."""
        chosen = domain.newest_valid_by_type(
            self.store.by_holder(holder_id_number), set(license_types), self.now()
        )
        for license_type in license_types:
            REUSED.labels(license_type, "found" if license_type in chosen else "none").inc()
        return {t: domain.shared_view(license) for t, license in chosen.items()}

    @rpc
    def check_license(self, license_id, holder_id_number, license_type):
        """{"license": shared view} when the licence may fill the material, else {"error": why}."""
        license = self.store.get(license_id) if isinstance(license_id, str) else None
        refusal = domain.refusal(license, license_id, holder_id_number, license_type, self.now())
        REUSED.labels(license_type, "refused" if refusal else "accepted").inc()
        return {"error": refusal} if refusal else {"license": domain.shared_view(license)}

    @timer(interval=2)
    def expire(self):
        """Mark licences past their expiry (publishing license_expired)."""
        now = self.now()
        for license in self.store.due_to_expire(now):
            changes = {"status": "expired", "expired_at": now.isoformat()}
            if self._transition(license, changes, LICENSE_EXPIRED):
                EXPIRED.labels(license["type"]).inc()

    def _transition(self, license, changes, event_type, reason=""):
        """Store the status change with its life-cycle event, then publish it."""
        now = self.now()
        entries = with_ids([event(event_type, domain.lifecycle_event(license, now, reason))])
        written = self.store.mark(
            license["id"], license.get("status", "valid"), changes, entries, now
        )
        if written is not None:
            self.outbox.publish(license["id"], written["rev"], written["outbox"])
        return written is not None
