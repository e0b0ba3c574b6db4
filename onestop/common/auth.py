"""Who may do what on the HTTP API: bearer tokens (EdDSA JWTs, onestop/common/tokens.py)
with roles, and the rules every service applies.

Roles and their claims:

| role | `sub` | other claims | may | longest lifetime |
|---|---|---|---|---|
| applicant | their ID number or unified social credit code | | their own applications, licences, reviews | 8 h |
| clerk | the clerk's staff id | `region` (their counter) | apply on behalf of an applicant (channel counter) | 12 h |
| officer | the officer's staff id | `office` = `<department>.<region>` | their office's tasks (officer API) | 12 h |
| supervisor | staff id | `region` (optional) | supervision listings | 1 h |
| operator | staff id | | operations | 1 h |

Missing, bad, expired, too long-lived or revoked token: 401 (with `WWW-Authenticate:
Bearer`); a role that may not call the endpoint, or someone else's resource: 403 (or 404
where existence must not leak).

A service holds only the public keys (AUTH_PUBLIC_KEYS or AUTH_PUBLIC_KEYS_FILE, a JWKS;
on one machine the public half of the development key). Revocations (docs/adr/0015) arrive
as `token_revoked` events (onestop/common/service.py) and are kept in the service's own
database (collection `revoked_tokens`) and in memory; the Authenticator loads them when the
service starts and again every REVOCATIONS_RELOAD_SECONDS.

In a service: `auth = Authenticator()` as a dependency, then in an entrypoint
`principal = self.auth.require(request, "officer")`.
"""

import logging
import time
from dataclasses import dataclass

import eventlet
from nameko.extensions import DependencyProvider

from onestop.common import config, tokens
from onestop.common.http import ApiError
from onestop.common.scopes import check_counter_clerk, region_covers  # noqa: F401
from onestop.common.tokens import (  # noqa: F401  (the names callers used to find here)
    ALGORITHM,
    AUDIENCE,
    ISSUER,
    KEY_FILE_NAME,
    MAX_LIFETIME_SECONDS,
    OFFICE,
    REGION,
    ROLES,
    InvalidToken,
    check_claims,
    mint,
    signing_key,
)

log = logging.getLogger(__name__)

REVOCATIONS_COLLECTION = "revoked_tokens"
REVOCATIONS_RELOAD_SECONDS = 30
REVOCATIONS_SOURCE = "operators"  # the events exchange: operators.events
TOKEN_REVOKED = "token_revoked"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="onestop"'}


class Forbidden(ApiError):
    status, code = 403, "forbidden"


@dataclass(frozen=True)
class Principal:
    """The caller, as its verified token says."""

    role: str
    sub: str
    office: str = None
    region: str = None
    name: str = None

    @property
    def department(self):
        """An officer's department (the office is `<department>.<region>`)."""
        return self.office.rsplit(".", 1)[0] if self.office else None

    def is_applicant(self, id_number):
        """True when the caller is this applicant (their own application or licence)."""
        return self.role == "applicant" and self.sub == id_number


def verify(token, keys, revoked=None):
    """The Principal of a valid token; Unauthorized with the reason otherwise."""
    try:
        claims = tokens.verify(token, keys, revoked)
    except tokens.InvalidToken as exc:
        raise Unauthorized(str(exc)) from None
    return Principal(
        claims["role"],
        claims["sub"],
        claims.get("office"),
        claims.get("region"),
        claims.get("name"),
    )


def bearer_token(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("this endpoint needs a bearer token (Authorization: Bearer ...)")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


class Guard:
    """What an entrypoint uses: authenticate the request, check the role."""

    def __init__(self, keys, revoked=None, recorder=None):
        self.keys = tokens.as_key_set(keys)
        self.revoked = revoked if revoked is not None else tokens.Revocations()
        self._recorder = recorder

    def authenticate(self, request):
        return verify(bearer_token(request), self.keys, self.revoked)

    def require(self, request, *roles):
        principal = self.authenticate(request)
        if roles and principal.role not in roles:
            raise Forbidden(f"a {principal.role} may not do this (needs: {', '.join(roles)})")
        return principal

    def record_revocation(self, entry, persist=True):
        """A `token_revoked` event: refused from now on (kept in the store when `persist`)."""
        if self._recorder is None:
            self.revoked.add(tokens.check_revocation(entry))
        else:
            self._recorder(entry, persist)


class Authenticator(DependencyProvider):
    """`auth = Authenticator()` in a service: the public keys are read, and the revocations
    loaded from the service's own database, when the service starts."""

    def __init__(self):
        self.keys = None
        self.revoked = tokens.Revocations()
        self.collection = None
        self._client = None

    def setup(self):
        self.keys = tokens.verification_keys()
        uri = self.container.config.get("MONGO_URI")
        if uri:
            from onestop.common.mongo import connect

            self._client = connect(uri)
            self.collection = self._client[config.db_name(self.container.service_name)][
                REVOCATIONS_COLLECTION
            ]
            self.load()

    def start(self):
        if self.collection is not None:
            self.container.spawn_managed_thread(self._reload_forever)

    def stop(self):
        if self._client is not None:
            self._client.close()

    def load(self):
        """Every revocation the store keeps that still refuses a live token, and what this
        process heard meanwhile."""
        now = int(time.time())
        revoked = tokens.Revocations()
        for doc in self.collection.find({"expires_at": {"$gt": now}}):
            try:
                revoked.add(tokens.check_revocation(dict(doc, id=doc["_id"])))
            except ValueError:
                log.warning("a stored token revocation is not one; ignored")
        for jti, expires in self.revoked.jtis.items():
            revoked.add({"jti": jti, "expires_at": expires})
        for sub, (before, expires) in self.revoked.subs.items():
            revoked.add({"sub": sub, "before": before, "expires_at": expires})
        revoked.forget_expired(now)
        self.revoked = revoked

    def _reload_forever(self):
        while True:
            eventlet.sleep(REVOCATIONS_RELOAD_SECONDS)
            try:
                self.load()
            except Exception:  # the store is away: keep what is known, try again later
                log.warning("could not reload the token revocations", exc_info=True)

    def record(self, entry, persist=True):
        entry = tokens.check_revocation(entry)
        self.revoked.add(entry)
        if persist and self.collection is not None:
            if "jti" in entry:
                self.collection.replace_one({"_id": entry["id"]}, _document(entry), upsert=True)
            else:
                known = self.collection.find_one({"_id": entry["id"]}) or {}
                merged = dict(
                    entry,
                    before=max(entry["before"], known.get("before", 0)),
                    expires_at=max(entry["expires_at"], known.get("expires_at", 0)),
                )
                self.collection.replace_one({"_id": entry["id"]}, _document(merged), upsert=True)
        log.info("token revocation %s recorded", entry["id"].split(":", 1)[0])

    def get_dependency(self, worker_ctx):
        return Guard(self.keys, self.revoked, self.record)


def publish_revocation(entry, amqp_uri=None):
    """Send a `token_revoked` event to every service (confirmed by the broker). Raises
    nameko's UndeliverableMessage when no service has ever bound a queue to it (nobody
    would hear it: start the mesh first)."""
    from nameko.amqp.publish import Publisher
    from nameko.standalone.events import get_event_exchange

    entry = tokens.check_revocation(entry)
    exchange = get_event_exchange(REVOCATIONS_SOURCE, {})
    Publisher(
        amqp_uri or config.amqp_uri(),
        serializer="json",
        use_confirms=True,
        mandatory=True,
        delivery_mode=2,
        declare=[exchange],
    ).publish(entry, exchange=exchange, routing_key=TOKEN_REVOKED)
    return entry


def _document(entry):
    return {"_id": entry["id"], **{k: v for k, v in entry.items() if k != "id"}}


# -- who may do what: one place for the rules every service applies (docs/adr/0009) ------
def acting_applicant(principal, claimed=None):
    """The applicant a caller acts for: an applicant only for themselves (a different
    `claimed` id is 403). Nobody acts in a citizen's name here: a counter clerk files an
    application at the counter (check_counter_clerk) and works on what they submitted,
    but never reviews, confirms, disputes or reads a wallet for someone (docs/adr/0007)."""
    if principal.role == "applicant":
        if claimed not in (None, "", principal.sub):
            raise Forbidden("an applicant may act only for themselves")
        return principal.sub
    if principal.role == "clerk":
        raise Forbidden(
            "a counter clerk may not do this in a citizen's name; the citizen does it "
            "themselves (online, mobile or the counter's self-service terminal)"
        )
    raise Forbidden(f"a {principal.role} may not act for an applicant")


def may_read_application(principal, applicant_id, submitted_by=None, offices=(), region=None):
    """The owner, the clerk who submitted it (inside their counter's region), an officer of
    an office holding one of its tasks, supervisors (of its region, when their token names
    one) and operators. Callers answer 404 otherwise (existence must not leak to someone
    guessing ids)."""
    if principal.role == "operator":
        return True
    if principal.role == "supervisor":
        return region is None or region_covers(principal.region, region)
    if principal.role == "applicant":
        return principal.sub == applicant_id
    if principal.role == "clerk":  # submitted_by: {"role", "sub"} of who submitted it
        return (
            (submitted_by or {}).get("role") == "clerk"
            and principal.sub == submitted_by.get("sub")
            and (region is None or region_covers(principal.region, region))
        )
    if principal.role == "officer":
        return principal.office in set(offices)
    return False
