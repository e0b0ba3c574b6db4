"""Formal notices to applicants (受理通知书 / 不予受理通知书 / 不予许可决定书), signed like
e-licences: pure functions, no nameko, no pymongo.

Routing issues a notice (the `notice_issued` event); this service signs it with the same
Ed25519 key as the e-licences (services/license/domain.py: canonical JSON, `key_id`,
`signature`) and serves it. A notice's id is `<application_id>:<kind>`: one of each kind per
application, so a redelivered event issues nothing new.
"""

from onestop.common.auth import may_read_application
from onestop.common.errors import Unknown
from services.license import domain

SIGNED_FIELDS = (
    "notice_id",
    "kind",
    "title_zh",
    "application_id",
    "scenario",
    "catalog_version",
    "applicant",
    "region",
    "channel",
    "submitted_at",
    "issued_at",
    "issued_by",
    "items",
    "reasons",
    "promised_due",
    "appeal",
)


def build(issued):
    """The notice document (not yet signed) from routing's `notice_issued` payload."""
    notice = {k: issued[k] for k in SIGNED_FIELDS if issued.get(k) is not None}
    notice["id"] = issued["notice_id"]
    notice["applicant"] = {
        k: issued["applicant"][k] for k in ("kind", "id_number", "name") if k in issued["applicant"]
    }
    notice["issuer"] = "政务服务中心"
    return notice


def sign(notice, private_key):
    return domain.sign(notice, private_key)


def readable(principal, notices, application_id):
    """The application's notices if the caller may read the application, else Unknown (404:
    existence must not leak). Routing's notices arrive here a moment after it issued them."""
    if not notices:
        raise Unknown(f"no notice for application {application_id}")
    first = notices[0]
    if not may_read_application(
        principal, first["applicant"]["id_number"], first.get("submitted_by")
    ):
        raise Unknown(f"no notice for application {application_id}")
    return [shown(n) for n in sorted(notices, key=lambda n: n["issued_at"])]


def shown(stored):
    """A stored notice as served: exactly what was signed, and the signature."""
    return {k: v for k, v in stored.items() if k not in ("_id", "submitted_by")}


def verification(notice, public_keys):
    """(result, answer) of a verify request: `valid` when one of the published keys signed
    exactly this content, else `forged`."""
    if not domain.signature_holds(notice, public_keys):
        return "forged", {"id": notice.get("id"), "result": "forged"}
    content = domain.signed_content(notice)
    return "valid", {"id": notice["id"], "result": "valid", "notice": content}
