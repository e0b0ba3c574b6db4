"""The screens' OpenID Connect sign-in: the province's identity provider vouches for a person,
web mints them an applicant token (docs/adr/0024-web-front-end.md, docs/operations.md "The
screens' sign-in").

Authorization code flow with PKCE (S256), state and nonce, through Authlib's requests
client. What the browser must bring back (state, nonce, the PKCE verifier, where to go next)
travels in a short-lived cookie signed with a key derived from the platform's signing key
(HttpOnly, SameSite=Lax, path /auth/oidc): nothing kept in this process, so any number of
web replicas serve the callback. The ID token is checked against the provider's keys (its
JWKS, from discovery): signature, issuer, audience, expiry, nonce, at_hash. Its claim
WEB_OIDC_ID_NUMBER_CLAIM (default `sub`) must be a resident ID number or a unified social
credit code; it becomes the applicant token's subject, `name` its display name.

Every failure ends at `/signin/done#error=<reason>` (the page says it in Chinese), never a
500 and never a platform token: a reason from REASONS, counted on
web_sign_in_failures_total{reason}.
"""

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from urllib.parse import quote, urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from cryptography.hazmat.primitives import serialization
from prometheus_client import Counter
from werkzeug.wrappers import Response

from onestop.common import config, tokens
from onestop.common.logs import mask

log = logging.getLogger(__name__)

COOKIE = "onestop_oidc"
COOKIE_PATH = "/auth/oidc"
STATE_SECONDS = 600  # a person has ten minutes at the provider's page
METADATA_SECONDS = 3600  # discovery and keys are read again after an hour (key rotation)
HTTP_SECONDS = 10
LEEWAY_SECONDS = 60
# the same forms intake accepts (services/intake/schemas.py)
ID_NUMBER = re.compile(r"^([0-9]{17}[0-9X]|[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})$")
REASONS = (
    "provider_unavailable",  # discovery, keys or the token endpoint did not answer well
    "state_missing",  # no (valid, unexpired) cookie: another browser, or too late
    "state_mismatch",  # the state in the URL is not this browser's
    "access_denied",  # the person (or the provider) refused
    "token_rejected",  # the code was refused, or the ID token failed a check
    "id_number_missing",  # the configured claim is absent
    "id_number_invalid",  # present, but not an ID number or credit code
)
FAILURES = Counter(
    "web_sign_in_failures_total", "OpenID Connect sign-ins that ended without a token", ["reason"]
)


class SignInFailed(Exception):
    def __init__(self, reason, detail=""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def safe_next(value):
    """Only a path of this site (never //elsewhere or a scheme), and not the sign-in itself."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and not value.startswith("/signin")
        and len(value) <= 512
    ):
        return value
    return None


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class StateCookie:
    """A JSON object, HMAC-SHA256 signed, with an expiry: what the callback needs back."""

    def __init__(self, secret):
        self.secret = secret

    def seal(self, values, now=None):
        body = dict(values, exp=int((now or time.time()) + STATE_SECONDS))
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        mac = hmac.new(self.secret, payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{_b64(mac)}"

    def open(self, text, now=None):
        """The values, or None when absent, altered or expired."""
        if not text or text.count(".") != 1:
            return None
        payload, mac = text.split(".")
        expected = hmac.new(self.secret, payload.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(mac), expected):
                return None
            values = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(values, dict) or values.get("exp", 0) < (now or time.time()):
            return None
        return values


def cookie_secret(signing_key):
    """A key for the state cookie only, derived from the platform's signing key (one secret
    to provision; a cookie's MAC can never be mistaken for a token signature)."""
    private = (
        tokens.load_private_key(signing_key) if signing_key is not None else tokens.signing_key()
    )
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hmac.new(raw, b"onestop web oidc state cookie v1", hashlib.sha256).digest()


class Provider:
    """The identity provider's discovery document and keys, read when first needed and
    again after METADATA_SECONDS (or at once when a token names an unknown key)."""

    def __init__(self, issuer, http=None):
        self.issuer = issuer.rstrip("/")
        self.http = http or requests.Session()
        self._metadata = None
        self._keys = None
        self._read_at = 0.0

    def metadata(self):
        if self._metadata is None or time.monotonic() - self._read_at > METADATA_SECONDS:
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                response = self.http.get(url, timeout=HTTP_SECONDS)
                response.raise_for_status()
                metadata = response.json()
            except (requests.RequestException, ValueError) as exc:
                raise SignInFailed("provider_unavailable", f"discovery at {url}: {exc}") from exc
            if not isinstance(metadata, dict) or metadata.get("issuer", "").rstrip("/") != (
                self.issuer
            ):
                raise SignInFailed(
                    "provider_unavailable", f"discovery names issuer {metadata.get('issuer')!r}"
                )
            missing = [
                key
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                if not isinstance(metadata.get(key), str)
            ]
            if missing:
                raise SignInFailed("provider_unavailable", f"discovery lacks {missing}")
            self._metadata, self._keys, self._read_at = metadata, None, time.monotonic()
        return self._metadata

    def keys(self, force=False):
        if self._keys is None or force:
            url = self.metadata()["jwks_uri"]
            try:
                response = self.http.get(url, timeout=HTTP_SECONDS)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
            except (requests.RequestException, ValueError, JoseError) as exc:
                raise SignInFailed("provider_unavailable", f"keys at {url}: {exc}") from exc
        return self._keys


class OidcSignIn:
    """GET /auth/oidc/login and /auth/oidc/callback (routed by services/web/app.py)."""

    def __init__(
        self,
        issuer,
        client_id,
        client_secret,
        public_url,
        signing_key=None,
        id_number_claim="sub",
        display_name=None,
        http=None,
    ):
        self.provider = Provider(issuer, http)  # http: a requests.Session (tests pass one)
        self.client_id = client_id
        self.client_secret = client_secret
        self.public_url = public_url.rstrip("/")
        self.redirect_uri = f"{self.public_url}/auth/oidc/callback"
        self.signing_key = signing_key
        self.id_number_claim = id_number_claim or "sub"
        self.display_name = display_name or None
        self.cookies = StateCookie(cookie_secret(signing_key))

    @classmethod
    def from_env(cls, signing_key=None):
        issuer = config.env("WEB_OIDC_ISSUER")
        client_id = config.env("WEB_OIDC_CLIENT_ID")
        if not issuer or not client_id:
            raise ValueError("WEB_OIDC_ISSUER and WEB_OIDC_CLIENT_ID are both required")
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=config.env("WEB_OIDC_CLIENT_SECRET") or None,
            public_url=(
                config.env("WEB_PUBLIC_URL")
                or config.env("PUBLIC_BASE_URL")
                or "http://127.0.0.1:8000"
            ),
            signing_key=signing_key,
            id_number_claim=config.env("WEB_OIDC_ID_NUMBER_CLAIM") or "sub",
            display_name=config.env("WEB_OIDC_NAME") or None,
        )

    def _session(self, **kwargs):
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope="openid profile",
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=("client_secret_basic" if self.client_secret else "none"),
            **kwargs,
        )

    # -- the two endpoints -----------------------------------------------------------

    def login(self, request):
        """Send the browser to the provider, with this browser's state in a cookie."""
        try:
            authorize = self.provider.metadata()["authorization_endpoint"]
        except SignInFailed as failed:
            return self.failure(failed)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        url, _ = self._session().create_authorization_url(
            authorize, state=state, nonce=nonce, code_verifier=verifier
        )
        sealed = self.cookies.seal(
            {
                "state": state,
                "nonce": nonce,
                "verifier": verifier,
                "next": safe_next(request.args.get("next")),
            }
        )
        response = redirect(url)
        response.set_cookie(
            COOKIE,
            sealed,
            max_age=STATE_SECONDS,
            path=COOKIE_PATH,
            httponly=True,
            secure=self.public_url.startswith("https://"),
            samesite="Lax",
        )
        return response

    def callback(self, request):
        """Back from the provider: check everything, then a platform token in the fragment."""
        try:
            kept = self.cookies.open(request.cookies.get(COOKIE))
            if kept is None:
                raise SignInFailed("state_missing", "no valid state cookie")
            if request.args.get("error"):
                # nothing is granted on this path, so a provider that leaves the state out
                # of its error answer (some do) still gets its refusal said
                raise SignInFailed("access_denied", request.args.get("error", "")[:100])
            if not hmac.compare_digest(
                str(request.args.get("state", "")).encode(), kept["state"].encode()
            ):
                raise SignInFailed("state_mismatch", "the state is not this browser's")
            code = request.args.get("code")
            if not code:
                raise SignInFailed("token_rejected", "no code in the callback")
            claims = self.exchange(code, kept)
            id_number, name = self.identity(claims)
        except SignInFailed as failed:
            return self.failure(failed)
        token = tokens.mint("applicant", id_number, key=self.signing_key, name=name)
        log.info("signed in through OpenID Connect: applicant %s", mask(id_number))
        fragment = urlencode({"token": token, **({"next": kept["next"]} if kept["next"] else {})})
        response = self.forget_state(redirect(f"{self.public_url}/signin/done#{fragment}"))
        response.signed_in_role = "applicant"  # web counts it (web_sign_ins_total)
        return response

    # -- the checks ------------------------------------------------------------------

    def exchange(self, code, kept):
        """The code for tokens at the provider, and the ID token's checked claims."""
        metadata = self.provider.metadata()
        session = self._session(state=kept["state"])
        try:
            token = session.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=kept["verifier"],
                timeout=HTTP_SECONDS,
            )
        except requests.RequestException as exc:
            raise SignInFailed("provider_unavailable", f"token endpoint: {exc}") from exc
        except Exception as exc:  # Authlib's OAuth2Error and friends: the provider said no
            raise SignInFailed("token_rejected", f"token endpoint: {exc}") from exc
        if not isinstance(token, dict) or not token.get("id_token"):
            raise SignInFailed("token_rejected", "no id_token in the token response")
        return self.check_id_token(token, kept["nonce"])

    def check_id_token(self, token, nonce):
        metadata = self.provider.metadata()
        registry = JWSRegistry(
            algorithms=metadata.get("id_token_signing_alg_values_supported") or ["RS256"],
            strict_check_header=False,
        )
        try:
            try:
                decoded = jwt.decode(token["id_token"], self.provider.keys(), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys: read them again once
                decoded = jwt.decode(
                    token["id_token"], self.provider.keys(force=True), registry=registry
                )
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {"iss": {"essential": True, "values": [metadata["issuer"]]}},
                {
                    "nonce": nonce,
                    "client_id": self.client_id,
                    "access_token": token.get("access_token"),
                },
            )
            claims.validate(leeway=LEEWAY_SECONDS)
            if "aud" not in claims or self.client_id not in (
                claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
            ):
                raise SignInFailed("token_rejected", "the ID token is for another client")
            if claims.get("nonce") != nonce:
                raise SignInFailed("token_rejected", "the ID token's nonce is not ours")
        except (JoseError, ValueError) as exc:
            raise SignInFailed("token_rejected", f"ID token: {exc}") from exc
        return dict(claims)

    def identity(self, claims):
        """(ID number, display name) from the checked claims."""
        value = claims.get(self.id_number_claim)
        if value is None or value == "":
            raise SignInFailed("id_number_missing", f"no {self.id_number_claim} claim")
        id_number = str(value).strip().upper()
        if not ID_NUMBER.match(id_number):
            raise SignInFailed("id_number_invalid", f"{self.id_number_claim} is not one")
        name = claims.get("name")
        name = name.strip()[:100] if isinstance(name, str) and name.strip() else None
        return id_number, name

    def failure(self, failed):
        FAILURES.labels(failed.reason).inc()
        log.warning("OpenID Connect sign-in failed: %s", mask(str(failed)))
        return self.forget_state(
            redirect(f"{self.public_url}/signin/done#error={quote(failed.reason)}")
        )

    def forget_state(self, response):
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
        return response


def redirect(location):
    response = Response(status=303)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response
