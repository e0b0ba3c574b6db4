"""Bearer tokens of the HTTP API: EdDSA (Ed25519) JWTs, PyJWT and cryptography only.

No nameko, no pymongo: the public client (onestop/client.py), the operators' tools and the
services' Authenticator (onestop/common/auth.py) all use this module (docs/adr/0015).

- The **issuer** (`python -m ops.cli token`, the runner's development tokens, a client
  given the key) holds the private key: AUTH_SIGNING_KEY (an Ed25519 private key as PKCS8
  PEM, or its 32-byte seed as 64 hex digits), else, for local runs, one generated once into
  DATA_DIR/auth-signing.key (mode 0600, never committed).
- **Verifiers** (the services) hold only public keys: AUTH_PUBLIC_KEYS (a JWKS, JSON) or
  AUTH_PUBLIC_KEYS_FILE (a JWKS file); every key has a `kid` (RFC 7638 thumbprint), and a
  token names the key it was signed with, so several keys are accepted during a rotation.
  Without either (one machine), the public half of the issuer's key is the set.
- Every token carries iss, aud, sub, role, iat, exp and jti; its lifetime (exp - iat) is
  at most its role's (MAX_LIFETIME_SECONDS); a revoked jti, or a subject whose tokens were
  revoked at or after the token's iat, is refused (`Revocations`).
"""

import base64
import hashlib
import json
import re
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from onestop.common import config

ROLES = ("applicant", "clerk", "officer", "supervisor", "operator")
ALGORITHM = "EdDSA"
ISSUER = "onestop"
AUDIENCE = "onestop-api"
KEY_FILE_NAME = "auth-signing.key"
HOUR = 3600
# the longest a token of each role may live (exp - iat): a stolen staff token with wide
# powers is worth least; an applicant's lasts a working day online
MAX_LIFETIME_SECONDS = {
    "applicant": 8 * HOUR,
    "clerk": 12 * HOUR,
    "officer": 12 * HOUR,
    "supervisor": 1 * HOUR,
    "operator": 1 * HOUR,
}
LONGEST_LIFETIME_SECONDS = max(MAX_LIFETIME_SECONDS.values())
CLOCK_SKEW_SECONDS = 60  # between the issuer's clock and a verifier's
MAX_JTI_LENGTH = 128
# an office is <department>.<region>: a county or above (six digits) or a township (nine)
OFFICE = re.compile(r"^[a-z][a-z0-9_]*\.\d{6}(\d{3})?$")
REGION = re.compile(r"^\d{6}$")
HEX_SEED = re.compile(r"^[0-9a-fA-F]{64}$")


class InvalidToken(ValueError):
    """A token that is refused; the message says why."""


class TokenExpired(InvalidToken):
    pass


class TokenRevoked(InvalidToken):
    pass


# -- keys -----------------------------------------------------------------------------------
def new_private_key_pem():
    """A fresh Ed25519 private key, PKCS8 PEM."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def load_private_key(value):
    """An Ed25519 private key from a key object, PKCS8 PEM, or a 64-hex-digit seed."""
    if isinstance(value, Ed25519PrivateKey):
        return value
    text = value.decode() if isinstance(value, bytes) else str(value or "")
    text = text.strip()
    if HEX_SEED.match(text):
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError):
            key = None
        if isinstance(key, Ed25519PrivateKey):
            return key
    raise ValueError(
        "AUTH_SIGNING_KEY must be an Ed25519 private key: PKCS8 PEM, or its "
        "32-byte seed as 64 hex digits"
    )


def signing_key():
    """The issuer's private key: AUTH_SIGNING_KEY, or the development key under DATA_DIR."""
    return load_private_key(
        config.local_secret("AUTH_SIGNING_KEY", KEY_FILE_NAME, new_private_key_pem)
    )


def _b64(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _raw_public(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_of(public_key):
    """The key's id: its RFC 7638 JWK thumbprint (SHA-256), base64url, 16 characters."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64(_raw_public(public_key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())[:16]


def public_jwk(key):
    """The public JWK of a key (private or public)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64(_raw_public(public)),
        "use": "sig",
        "alg": ALGORITHM,
        "kid": kid_of(public),
    }


def jwks(*keys):
    """A JWKS of the public halves of `keys` (what verifiers are given)."""
    return {
        "keys": [
            public_jwk(load_private_key(k) if not isinstance(k, Ed25519PublicKey) else k)
            for k in keys
        ]
    }


class KeySet:
    """Public keys by kid: what a verifier accepts."""

    def __init__(self, keys):
        self.keys = {kid_of(k): k for k in keys}

    @classmethod
    def from_jwks(cls, document):
        document = json.loads(document) if isinstance(document, (str, bytes)) else document
        keys = []
        for jwk in (document or {}).get("keys", []):
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                raise ValueError(f"only Ed25519 (OKP) keys are accepted, not {jwk!r:.80}")
            raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            key = Ed25519PublicKey.from_public_bytes(raw)
            if jwk.get("kid") not in (None, kid_of(key)):
                raise ValueError(f"kid {jwk['kid']} is not the thumbprint of its key")
            keys.append(key)
        if not keys:
            raise ValueError("the public key set is empty")
        return cls(keys)

    def get(self, kid):
        return self.keys.get(kid)

    def __len__(self):
        return len(self.keys)


def as_key_set(value):
    """A KeySet from a KeySet, a JWKS, public keys, or a private key (its public half)."""
    if isinstance(value, KeySet):
        return value
    if isinstance(value, dict):
        return KeySet.from_jwks(value)
    if isinstance(value, Ed25519PublicKey):
        return KeySet([value])
    if isinstance(value, (list, tuple)):
        return KeySet(
            [
                k if isinstance(k, Ed25519PublicKey) else load_private_key(k).public_key()
                for k in value
            ]
        )
    return KeySet([load_private_key(value).public_key()])


def verification_keys():
    """What the services accept: AUTH_PUBLIC_KEYS (JWKS), AUTH_PUBLIC_KEYS_FILE, or, on one
    machine without either, the public half of the issuer's (development) key."""
    given = config.env("AUTH_PUBLIC_KEYS")
    if given:
        return KeySet.from_jwks(given)
    path = config.env("AUTH_PUBLIC_KEYS_FILE")
    if path:
        with open(path) as handle:
            return KeySet.from_jwks(handle.read())
    return as_key_set(signing_key())


# -- claims --------------------------------------------------------------------------------
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


def check_lifetime(role, issued_at, expires):
    """exp and iat are whole seconds; the lifetime is positive and at most the role's."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (issued_at, expires)):
        raise ValueError("iat and exp must be whole seconds")
    lifetime, cap = expires - issued_at, MAX_LIFETIME_SECONDS[role]
    if lifetime <= 0:
        raise ValueError("exp must be after iat")
    if lifetime > cap:
        raise ValueError(f"a {role}'s token may live at most {cap} s (this one: {lifetime} s)")


def mint(role, sub, ttl_seconds=None, key=None, now=None, **claims):
    """A signed token for `role` (lifetime: the role's longest unless `ttl_seconds` is
    shorter; longer is a ValueError); extra claims: office, region, name."""
    check_claims(role, sub, claims.get("office"), claims.get("region"))
    private = load_private_key(key) if key is not None else signing_key()
    issued = int(now if now is not None else time.time())
    ttl = MAX_LIFETIME_SECONDS[role] if ttl_seconds is None else int(ttl_seconds)
    if ttl > MAX_LIFETIME_SECONDS[role]:
        raise ValueError(f"a {role}'s token may live at most {MAX_LIFETIME_SECONDS[role]} s")
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "role": role,
        "iat": issued,
        "exp": issued + ttl,
        "jti": uuid.uuid4().hex,
        **{k: v for k, v in claims.items() if v is not None},
    }
    return jwt.encode(
        payload, private, algorithm=ALGORITHM, headers={"kid": kid_of(private.public_key())}
    )


def verify(token, keys, revoked=None):
    """The claims of a valid token; InvalidToken (TokenExpired, TokenRevoked) with the
    reason otherwise. `keys`: a KeySet (or what as_key_set takes); `revoked`: Revocations."""
    keys = as_key_set(keys)
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"the token's algorithm must be {ALGORITHM}")
        kid = header.get("kid")
        if not kid:
            raise InvalidToken("the token names no key (kid)")
        key = keys.get(kid)
        if key is None:
            raise InvalidToken(f"the token's key {kid!r:.40} is not one this service accepts")
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]},
        )
        check_claims(
            claims.get("role"), claims.get("sub"), claims.get("office"), claims.get("region")
        )
        check_lifetime(claims["role"], claims["iat"], claims["exp"])
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise InvalidToken("jti must be a non-empty string")
    except jwt.ExpiredSignatureError:
        raise TokenExpired("the token has expired") from None
    except InvalidToken:
        raise
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(f"invalid token: {exc}") from None
    if revoked is not None and revoked.is_revoked(claims):
        raise TokenRevoked("the token has been revoked")
    return claims


# -- revocation ----------------------------------------------------------------------------
def revocation(jti=None, sub=None, now=None, by=None):
    """A revocation entry: one token (jti), or every token of `sub` issued at or before now.
    It can be forgotten once every token it refuses has expired anyway (`expires_at`): a
    valid token lives at most LONGEST_LIFETIME_SECONDS after its iat."""
    if bool(jti) == bool(sub):
        raise ValueError("revoke one token (jti) or one subject's tokens (sub)")
    for value, what in ((jti, "jti"), (sub, "sub")):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_JTI_LENGTH):
            raise ValueError(f"{what} must be a string of at most {MAX_JTI_LENGTH} characters")
    at = int(now if now is not None else time.time())
    entry = {
        "id": f"jti:{jti}" if jti else f"sub:{sub}",
        "revoked_at": at,
        "expires_at": at + LONGEST_LIFETIME_SECONDS + 2 * CLOCK_SKEW_SECONDS,
    }
    if jti:
        entry["jti"] = jti
    else:
        entry["sub"], entry["before"] = sub, at
    if by:
        entry["by"] = by
    return entry


def check_revocation(entry):
    """The entry as `revocation` makes it (an event from the broker is checked first)."""
    if not isinstance(entry, dict):
        raise ValueError("a revocation is an object")
    if "jti" in entry:
        made = revocation(jti=entry["jti"], now=entry.get("revoked_at"))
    else:
        made = revocation(sub=entry.get("sub"), now=entry.get("before"))
    for field in ("revoked_at", "expires_at"):
        if not isinstance(entry.get(field), int):
            raise ValueError(f"{field} must be whole seconds")
    if entry.get("id") != made["id"]:
        raise ValueError("id does not match the revocation")
    return {
        k: entry[k]
        for k in ("id", "jti", "sub", "before", "revoked_at", "expires_at", "by")
        if k in entry
    }


class Revocations:
    """The revoked jtis and subjects one process knows (in memory; each service keeps them
    in its own store too, onestop/common/auth.py)."""

    def __init__(self, entries=()):
        self.jtis = {}  # jti -> expires_at
        self.subs = {}  # sub -> (before, expires_at)
        for entry in entries:
            self.add(entry)

    def add(self, entry):
        if "jti" in entry:
            self.jtis[entry["jti"]] = max(entry["expires_at"], self.jtis.get(entry["jti"], 0))
        else:
            before, expires = self.subs.get(entry["sub"], (0, 0))
            self.subs[entry["sub"]] = (
                max(before, entry["before"]),
                max(expires, entry["expires_at"]),
            )

    def is_revoked(self, claims):
        if claims.get("jti") in self.jtis:
            return True
        cutoff = self.subs.get(claims.get("sub"))
        return cutoff is not None and claims.get("iat", 0) <= cutoff[0]

    def forget_expired(self, now=None):
        now = int(now if now is not None else time.time())
        self.jtis = {j: e for j, e in self.jtis.items() if e > now}
        self.subs = {s: v for s, v in self.subs.items() if v[1] > now}

    def __len__(self):
        return len(self.jtis) + len(self.subs)
