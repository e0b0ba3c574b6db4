"""license: issues signed e-licences when an application is approved; verify; wallet."""
import logging
from datetime import datetime

from marshmallow import ValidationError
from nameko.rpc import RpcProxy
from prometheus_client import Counter

from onestop.common.clock import Clock
from onestop.common.http import http, read_json, BadRequest, NotFound
from onestop.common.messaging import event_handler
from onestop.common.service import ServiceBase
from onestop.common.store import Storage
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import APPLICATION_DECIDED, ApplicationDecidedSchema
from onestop.license import domain
from onestop.license.keys import SigningKey
from onestop.license.store import LicenseStore

log = logging.getLogger(__name__)
ISSUED = Counter("license_licenses_issued_total", "E-licences issued", ["license_type"])
VERIFIED = Counter("license_verifications_total", "Verify requests by result", ["result"])


class LicenseService(ServiceBase):
    name = "license"

    store = Storage(LicenseStore, "license")
    catalog = RpcProxy("catalog")
    signing_key = SigningKey()
    now = Clock()

    @event_handler("routing", APPLICATION_DECIDED)
    def handle_application_decided(self, payload):
        try:
            decided = ApplicationDecidedSchema().load(payload)
        except ValidationError as exc:
            raise InvalidMessage(f"bad {APPLICATION_DECIDED}: {exc.messages}") from None
        if decided["decision"]["outcome"] != "approved":
            return
        types = None
        for task in decided["tasks"]:
            if not task.get("license_type") or task["state"] != "approved":
                continue
            if types is None:
                types = self.catalog.get_license_types(decided.get("catalog_version"))
            licence = domain.sign(domain.build_licence(task, decided, types[task["license_type"]],
                                                       self.now()), self.signing_key)
            if self.store.insert(licence):
                ISSUED.labels(licence["type"]).inc()

    @http("GET", "/api/licenses")
    def wallet(self, request):
        holder = request.args.get("holder", "").strip()
        if not holder:
            raise BadRequest("holder is required", fields={"holder": ["the holder's ID number"]})
        now = self.now()
        licences = [dict(doc, status=self._status(doc, now))
                    for doc in self.store.by_holder(holder)]
        licences.sort(key=lambda d: (d["status"] != "valid", d["issued_at"]), reverse=False)
        return {"holder": holder, "licenses": licences}

    @http("GET", "/api/licenses/keys")
    def public_keys(self, request):
        """The published verification keys (JWK set), for verifying licences offline."""
        return {"keys": [domain.public_jwk(self.signing_key.public_key())]}

    @http("GET", "/api/licenses/<string:licence_id>")
    def show(self, request, licence_id):
        doc = self.store.get(licence_id)
        if doc is None:
            raise NotFound(f"no licence {licence_id}")
        return dict(doc, status=self._status(doc, self.now()))

    @http("POST", "/api/licenses/verify")
    def verify(self, request):
        licence = read_json(request)
        stored = self.store.get(licence.get("id")) if isinstance(licence.get("id"), str) else None
        revoked = bool(stored and stored.get("status") == "revoked")
        public_key = self.signing_key.public_key()
        result = domain.verify(licence, {domain.key_id(public_key): public_key}, self.now(),
                               revoked)
        VERIFIED.labels(result).inc()
        return {"id": licence.get("id"), "result": result}

    @staticmethod
    def _status(doc, now):
        if doc.get("status") == "revoked":
            return "revoked"
        if doc.get("expires_at") and datetime.fromisoformat(doc["expires_at"]) <= now:
            return "expired"
        return "valid"
