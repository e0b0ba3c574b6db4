"""Who may do what on the HTTP API: bearer tokens (JWT, HS256, PyJWT) with roles.

Roles and their claims:

| role | `sub` | other claims | may |
|---|---|---|---|
| applicant | the applicant's ID number or unified social credit code | | their own applications, licences, reviews |
| clerk | the clerk's staff id | `region` (their counter) | apply on behalf of an applicant (channel counter) |
| officer | the officer's staff id | `office` = `<department>.<region>` | their office's tasks (officer API) |
| supervisor | staff id | `region` (optional) | supervision listings |
| operator | staff id | | operations |

Missing or bad token: 401 (with `WWW-Authenticate: Bearer`); a role that may not call the
endpoint, or someone else's resource: 403 (or 404 where existence must not leak).

The signing key is configuration: AUTH_SIGNING_KEY, or a random key generated once into
DATA_DIR/auth-signing.key (mode 0600; `.data/` is never committed). Tokens carry
`iss`, `aud`, `iat`, `exp` and `jti`; all are checked.

In a service: `auth = Authenticator()` as a dependency, then in an entrypoint
`principal = self.auth.require(request, "officer")`.
"""
import re
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from nameko.extensions import DependencyProvider

from onestop.common import config
from onestop.common.http import ApiError

ROLES = ("applicant", "clerk", "officer", "supervisor", "operator")
ALGORITHM = "HS256"
ISSUER = "onestop"
AUDIENCE = "onestop-api"
KEY_FILE_NAME = "auth-signing.key"
DEFAULT_TTL_SECONDS = 8 * 3600
OFFICE = re.compile(r"^[a-z][a-z0-9_]*\.\d{6}$")
REGION = re.compile(r"^\d{6}$")
MIN_KEY_BYTES = 32


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


def signing_key():
    """AUTH_SIGNING_KEY, or the development key generated once under DATA_DIR."""
    value = config.local_secret("AUTH_SIGNING_KEY", KEY_FILE_NAME,
                                lambda: secrets.token_hex(32))
    if len(value.encode()) < MIN_KEY_BYTES:
        raise ValueError(f"AUTH_SIGNING_KEY must be at least {MIN_KEY_BYTES} bytes")
    return value


def check_claims(role, sub, office=None, region=None):
    """What a token of this role must carry; ValueError says what is missing or wrong."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if not isinstance(sub, str) or not sub.strip():
        raise ValueError("sub is required")
    if role == "officer" and not (isinstance(office, str) and OFFICE.match(office)):
        raise ValueError("an officer's token needs office = <department>.<region code>")
    if region is not None and not (isinstance(region, str) and REGION.match(region)):
        raise ValueError("region must be a six-digit GB/T 2260 code")


def mint(role, sub, ttl_seconds=DEFAULT_TTL_SECONDS, key=None, now=None, **claims):
    """A signed token for `role`; extra claims: office, region, name."""
    check_claims(role, sub, claims.get("office"), claims.get("region"))
    issued = int(now if now is not None else time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "role": role, "iat": issued,
               "exp": issued + int(ttl_seconds), "jti": uuid.uuid4().hex,
               **{k: v for k, v in claims.items() if v is not None}}
    return jwt.encode(payload, key or signing_key(), algorithm=ALGORITHM)


def verify(token, key):
    """The Principal of a valid token; Unauthorized with the reason otherwise."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE,
                            issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        check_claims(claims.get("role"), claims.get("sub"), claims.get("office"),
                     claims.get("region"))
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired") from None
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise Unauthorized(f"invalid token: {exc}") from None
    return Principal(claims["role"], claims["sub"], claims.get("office"), claims.get("region"),
                     claims.get("name"))


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

    def __init__(self, key):
        self.key = key

    def authenticate(self, request):
        return verify(bearer_token(request), self.key)

    def require(self, request, *roles):
        principal = self.authenticate(request)
        if roles and principal.role not in roles:
            raise Forbidden(f"a {principal.role} may not do this (needs: {', '.join(roles)})")
        return principal


class Authenticator(DependencyProvider):
    """`auth = Authenticator()` in a service; the key is read when the service starts."""

    def setup(self):
        self.key = signing_key()

    def get_dependency(self, worker_ctx):
        return Guard(self.key)


def development_tokens(key=None, ttl_seconds=24 * 3600):
    """One token per role for trying the API locally (`make run` prints them)."""
    from onestop.client import PERSON_ID
    key = key or signing_key()
    samples = {
        "applicant": dict(sub=PERSON_ID, name="Li Hua"),
        "clerk": dict(sub="clerk-0001", region="430102", name="Counter clerk"),
        # the health office of Furong district (430102), where the samples apply
        "officer": dict(sub="officer-0001", office="health.430102", name="Health officer"),
        "supervisor": dict(sub="supervisor-0001", region="430000", name="Supervisor"),
        "operator": dict(sub="operator-0001", name="Operator"),
    }
    return {role: mint(role, ttl_seconds=ttl_seconds, key=key, **claims)
            for role, claims in samples.items()}


# -- who may do what: one place for the rules every service applies (docs/adr/0009) ------
STAFF_READERS = ("supervisor", "operator")


def acting_applicant(principal, claimed=None):
    """The applicant a caller acts for: an applicant only for themselves (a different
    `claimed` id is 403), a counter clerk for the applicant they name."""
    from onestop.common.http import BadRequest
    if principal.role == "applicant":
        if claimed not in (None, "", principal.sub):
            raise Forbidden("an applicant may act only for themselves")
        return principal.sub
    if principal.role == "clerk":
        if not claimed:
            raise BadRequest("a counter clerk names the applicant",
                             fields={"applicant_id": ["required when a clerk acts"]})
        return claimed
    raise Forbidden(f"a {principal.role} may not act for an applicant")


def may_read_application(principal, applicant_id, submitted_by=None, offices=()):
    """The owner, the clerk who submitted it, an officer of an office holding one of its
    tasks, supervisors and operators. Callers answer 404 otherwise (existence must not
    leak to someone guessing ids)."""
    if principal.role in STAFF_READERS:
        return True
    if principal.role == "applicant":
        return principal.sub == applicant_id
    if principal.role == "clerk":  # submitted_by: {"role", "sub"} of who submitted it
        return (submitted_by or {}).get("role") == "clerk" and (
            principal.sub == submitted_by.get("sub"))
    if principal.role == "officer":
        return principal.office in set(offices)
    return False
