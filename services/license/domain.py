"""E-licences as pure functions: build, sign, verify, status, sharing. No nameko, no pymongo.

The signature covers the canonical JSON (sorted keys, no spaces, UTF-8, non-ASCII
kept) of every field except the unsigned ones below; anyone holding the
published public key can check a licence offline (docs/licences-and-reviews.md
shows how, in a dozen lines that use nothing of ours). Revocation can only be
known online: the verify endpoint adds it.
"""

import base64
import hashlib
import json
import re
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from onestop.common.errors import Conflicting, Unknown
from onestop.common.logs import mask
from onestop.common.scopes import region_covers
from onestop.contracts.envelope import InvalidMessage

UNSIGNED_FIELDS = ("signature", "status", "revoked_at", "revocation_reason", "expired_at")
RESULTS = ("valid", "expired", "revoked", "forged")


def license_id(application_id, item_code):
    """Deterministic, so issuing twice for the same task yields the same licence (idempotent)."""
    return "L" + hashlib.sha256(f"{application_id}:{item_code}".encode()).hexdigest()[:31]


def canonical_bytes(license):
    return json.dumps(
        signed_content(license), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def unb64url(text):
    """Strict, canonical base64url without padding: exactly what `b64url` writes, so one
    byte string has one text (no padding, no stray characters, no non-zero trailing bits);
    anything else is a ValueError."""
    if not isinstance(text, str) or not BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not canonical base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data


def key_id(public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_jwk(public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw),
        "kid": key_id(public_key),
        "use": "sig",
        "alg": "EdDSA",
    }


def public_key_from_jwk(jwk):
    return Ed25519PublicKey.from_public_bytes(unb64url(jwk["x"]))


def keys_from_jwks(jwks):
    """key id -> public key, from a published JWK set (what an offline verifier downloads)."""
    return {
        jwk["kid"]: public_key_from_jwk(jwk)
        for jwk in jwks.get("keys", [])
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519"
    }


def build_license(task, decided, license_type, now):
    """A licence for one approved task of a decided application (not yet signed).

    `data` is what the department returned with its approval, unchanged.
    """
    validity = license_type.get("validity_days")
    data = task.get("data") or {}
    number = data.get("reference_number") or task["task_id"]
    return {
        "id": license_id(decided["application_id"], task["item_code"]),
        "type": license_type["code"],
        "type_name": license_type["name"],
        "number": str(number),
        "holder": {
            "kind": decided["applicant"]["kind"],
            "id_number": decided["applicant"]["id_number"],
            "name": decided["applicant"]["name"],
        },
        "issuer": {"department": task["department"], "region": task["region"]},
        "application_id": decided["application_id"],
        "item_code": task["item_code"],
        "data": data,
        "issued_at": now.isoformat(),
        "expires_at": (now + timedelta(days=validity)).isoformat() if validity else None,
    }


def sign(license, private_key):
    license = dict(license, key_id=key_id(private_key.public_key()))
    license["signature"] = b64url(private_key.sign(canonical_bytes(license)))
    return license


def signature_holds(license, public_keys):
    """True when the licence carries a good signature by one of the given keys."""
    kid, signature = license.get("key_id"), license.get("signature")
    if not isinstance(kid, str) or not isinstance(signature, str) or kid not in public_keys:
        return False
    key = public_keys[kid]
    try:
        key.verify(unb64url(signature), canonical_bytes(license))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def is_expired(license, now):
    expires_at = license.get("expires_at")
    return bool(expires_at) and datetime.fromisoformat(expires_at) <= now


def verify(license, public_keys, now, revoked=False):
    """valid, expired, revoked or forged; public_keys: key id -> Ed25519PublicKey.

    The signature is checked first: only signed data is ever parsed further.
    """
    if not signature_holds(license, public_keys):
        return "forged"
    if revoked:
        return "revoked"
    return "expired" if is_expired(license, now) else "valid"


def status_of(license, now):
    """The stored licence's status now: revoked, expired or valid."""
    if license.get("status") == "revoked":
        return "revoked"
    return "expired" if is_expired(license, now) else "valid"


def wallet_order(licenses, now):
    """Valid licences first, then expired, then revoked; newest first within each."""
    rank = {"valid": 0, "expired": 1, "revoked": 2}
    with_status = [dict(doc, status=status_of(doc, now)) for doc in licenses]
    with_status.sort(key=lambda d: d["issued_at"], reverse=True)
    with_status.sort(key=lambda d: rank[d["status"]])
    return with_status


def shared_view(license):
    """What a material filled from a licence carries to the departments: the licence's
    identity and validity, never the holder's ID number, the issuing application or the
    department's full data (a department that needs more asks GET /api/licenses/{id})."""
    return {
        "license_id": license["id"],
        "license_type": license["type"],
        "type_name": license.get("type_name", ""),
        "number": license["number"],
        "holder_name": license["holder"]["name"],
        "issuer": dict(license["issuer"]),
        "issued_at": license["issued_at"],
        "expires_at": license.get("expires_at"),
    }


def refusal(license, license_id, holder_id_number, license_type, now):
    """Why this licence cannot fill a material of `license_type` for this holder, or None."""
    if license is None:
        return f"there is no e-licence {license_id}"
    if license["holder"]["id_number"] != holder_id_number:
        return f"e-licence {license_id} belongs to someone else; only the holder may use it"
    if license_type and license["type"] != license_type:
        return (
            f"e-licence {license_id} is a {license['type']}, this material needs a {license_type}"
        )
    status = status_of(license, now)
    if status == "revoked":
        return (
            f"e-licence {license_id} was revoked on {license.get('revoked_at', '')[:10]}; "
            f"upload the material or use a valid licence"
        )
    if status == "expired":
        return (
            f"e-licence {license_id} expired on {license['expires_at'][:10]}; "
            f"upload the material or use a valid licence"
        )
    return None


def newest_valid_by_type(licenses, license_types, now):
    """license type -> the holder's newest valid licence of that type (those wanted only)."""
    chosen = {}
    for license in sorted(licenses, key=lambda d: d["issued_at"], reverse=True):
        if (
            license["type"] in license_types
            and license["type"] not in chosen
            and status_of(license, now) == "valid"
        ):
            chosen[license["type"]] = license
    return chosen


def licensed_tasks(decided):
    """The approved tasks of an approved decision that produce a licence."""
    if decided["decision"]["outcome"] != "approved":
        return []
    return [
        task
        for task in decided["tasks"]
        if task.get("license_type") and task.get("state") == "approved"
    ]


def licenses_to_issue(decided, license_types):
    """(task, licence type definition) for each licence the decision produces; an unknown
    type makes the message invalid (dead-lettered with the reason)."""
    issued = []
    for task in licensed_tasks(decided):
        if task["license_type"] not in license_types:
            raise InvalidMessage(
                f"unknown licence type {task['license_type']!r} in "
                f"application {decided['application_id']}"
            )
        issued.append((task, license_types[task["license_type"]]))
    return issued


def signed_content(license):
    """The fields the signature covers, and nothing else."""
    return {k: v for k, v in license.items() if k not in UNSIGNED_FIELDS}


def verification(license, stored, public_keys, now):
    """(result, answer) of a verify request for `licence`, given the stored licence of the
    same id (or None). Revocation is looked up by the licence's id and signing key, never by
    the text of its signature (which a presenter controls); the answer carries the content
    the signature covers, so a relying party shows what was signed, not fields beside it."""
    revoked = bool(
        stored and stored.get("status") == "revoked" and stored.get("key_id") == license["key_id"]
    )
    result = verify(license, public_keys, now, revoked)
    return result, verification_answer(license, result, signed_content, stored)


def verification_answer(license, result, content, stored, **extra):
    """A verify answer: the verdict, what the signature covers as `content(license)` shows
    it (unless forged: then nothing is vouched for), and the revocation when revoked."""
    answer = {"id": license["id"], "result": result, **extra}
    if result != "forged":
        answer["license"] = content(license)
    if result == "revoked":
        answer.update(
            revoked_at=stored.get("revoked_at"), revocation_reason=stored.get("revocation_reason")
        )
    return answer


def masked_name(name):
    """A person's name as a public page shows it: the first character, the rest hidden."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def masked_id_number(id_number):
    """An ID number or credit code with only its first three and last two characters."""
    if not isinstance(id_number, str) or len(id_number) < 6:
        return "*" * len(id_number or "")
    return id_number[:3] + "*" * (len(id_number) - 5) + id_number[-2:]


def _masked_values(value):
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _masked_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_values(v) for v in value]
    return value


PUBLICLY_MASKED = ["holder.id_number", "holder.name", "data"]


def public_content(license):
    """What the signature covers, as anyone who scans the licence's QR code may see it: the
    holder's ID number (or credit code) partly hidden, a person's name reduced to its first
    character, identifiers inside the department's data masked. An enterprise's name is
    public (it is on its business licence) and stays."""
    content = signed_content(license)
    holder = dict(content["holder"])
    holder["id_number"] = masked_id_number(holder.get("id_number"))
    if holder.get("kind") == "person":
        holder["name"] = masked_name(holder.get("name"))
    content["holder"] = holder
    if "data" in content:
        content["data"] = _masked_values(content["data"])
    return content


def public_verification(stored, license_id, public_keys, now):
    """(result, answer) for GET /api/licenses/{id}/verification: the stored licence checked
    like a presented one (signature first, then revocation and expiry), for the page a
    scanned QR code opens; no token, so the content is the public, masked one."""
    if stored is None:
        raise Unknown(f"no e-licence {license_id}")
    revoked = stored.get("status") == "revoked"
    result = verify(stored, public_keys, now, revoked)
    return result, verification_answer(
        stored, result, public_content, stored, masked=PUBLICLY_MASKED
    )


def revocation(license, license_id, reason, now):
    """The changes that revoke a stored licence."""
    if license is None:
        raise Unknown(f"no e-licence {license_id}")
    if license.get("status") == "revoked":
        raise Conflicting(f"e-licence {license_id} was already revoked")
    return {"status": "revoked", "revoked_at": now.isoformat(), "revocation_reason": reason}


def lifecycle_event(license, at, reason=""):
    """The payload of license_issued, license_revoked and license_expired."""
    return {
        "license_id": license["id"],
        "license_type": license["type"],
        "holder_id_number": license["holder"]["id_number"],
        "application_id": license["application_id"],
        "at": at.isoformat(),
        "reason": reason,
    }


def in_scope(principal, license):
    """A supervisor with a region sees the licences issued in it; everyone else who may
    read licences sees them all."""
    if principal.role != "supervisor":
        return True
    return region_covers(principal.region, license["issuer"]["region"])
