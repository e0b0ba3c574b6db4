"""E-licences as pure functions: build, sign, verify. No nameko, no pymongo.

The signature covers the canonical JSON (sorted keys, no spaces, UTF-8) of every
field except `signature` and `status`; anyone holding the published public key
can check a licence offline. Revocation needs the online verify endpoint.
"""
import base64
import hashlib
import json
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

UNSIGNED_FIELDS = ("signature", "status", "revoked_at", "revocation_reason")


def license_id(application_id, item_code):
    """Deterministic, so issuing twice for the same task yields the same licence (idempotent)."""
    return "L" + hashlib.sha256(f"{application_id}:{item_code}".encode()).hexdigest()[:31]


def canonical_bytes(licence):
    signed = {k: v for k, v in licence.items() if k not in UNSIGNED_FIELDS}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_jwk(public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": key_id(public_key),
            "use": "sig", "alg": "EdDSA"}


def public_key_from_jwk(jwk):
    return Ed25519PublicKey.from_public_bytes(unb64url(jwk["x"]))


def build_licence(task, decided, license_type, now):
    """A licence for one approved task of a decided application (not yet signed)."""
    validity = license_type.get("validity_days")
    number = (task.get("data") or {}).get("reference_number") or task["task_id"]
    return {
        "id": license_id(decided["application_id"], task["item_code"]),
        "type": license_type["code"], "type_name": license_type["name"],
        "number": number,
        "holder": {"kind": decided["applicant"]["kind"],
                   "id_number": decided["applicant"]["id_number"],
                   "name": decided["applicant"]["name"]},
        "issuer": {"department": task["department"], "region": task["region"]},
        "application_id": decided["application_id"], "item_code": task["item_code"],
        "data": task.get("data") or {},
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(days=validity)).isoformat() if validity else None,
    }


def sign(licence, private_key):
    licence = dict(licence, key_id=key_id(private_key.public_key()))
    licence["signature"] = b64url(private_key.sign(canonical_bytes(licence)))
    return licence


def verify(licence, public_keys, now, revoked=False):
    """valid, expired, revoked or forged; public_keys: key id -> Ed25519PublicKey."""
    key = public_keys.get(licence.get("key_id"))
    signature = licence.get("signature")
    if key is None or not isinstance(signature, str):
        return "forged"
    try:
        key.verify(unb64url(signature), canonical_bytes(licence))
    except (InvalidSignature, ValueError):
        return "forged"
    if revoked:
        return "revoked"
    expires_at = licence.get("expires_at")
    if expires_at and datetime.fromisoformat(expires_at) <= now:
        return "expired"
    return "valid"
