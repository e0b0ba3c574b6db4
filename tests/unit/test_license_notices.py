"""Formal notices signed like e-licences: what is signed, who may read, what verifies."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onestop.common.auth import Principal
from onestop.common.errors import Unknown
from services.license import domain, notices

KEY = Ed25519PrivateKey.generate()
PUBLIC = {domain.key_id(KEY.public_key()): KEY.public_key()}
ISSUED = {
    "notice_id": "app1:rejection",
    "kind": "rejection",
    "title_zh": "不予许可决定书",
    "application_id": "app1",
    "scenario": "birth",
    "catalog_version": 1,
    "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "张三"},
    "submitted_by": {"role": "clerk", "sub": "clerk-7"},
    "region": "430102",
    "channel": "counter",
    "submitted_at": "2026-11-26T09:00:00+00:00",
    "issued_at": "2026-11-27T09:00:00+00:00",
    "issued_by": "routing",
    "items": [{"item_code": "HN-WJ-0001", "item_name": "出生医学证明签发"}],
    "reasons": ["材料虚假"],
    "appeal": {"reconsideration_days": 60, "litigation_months": 6, "text_zh": "..."},
}


def signed():
    return notices.sign(notices.build(ISSUED), KEY)


def test_a_signed_notice_verifies_and_a_changed_one_does_not():
    notice = signed()
    assert notice["id"] == "app1:rejection" and "submitted_by" not in notice
    result, answer = notices.verification(notice, PUBLIC)
    assert result == "valid" and answer["notice"]["reasons"] == ["材料虚假"]
    assert "signature" not in answer["notice"]
    for change in ({"reasons": []}, {"appeal": None}, {"kind": "acceptance"}):
        assert notices.verification(dict(notice, **change), PUBLIC)[0] == "forged", change
    other = Ed25519PrivateKey.generate()
    assert notices.verification(notices.sign(notices.build(ISSUED), other), PUBLIC)[0] == "forged"


def test_only_those_who_may_read_the_application_read_its_notices():
    stored = [dict(signed(), _id="app1:rejection", submitted_by=ISSUED["submitted_by"])]
    owner = Principal("applicant", "430102199001011234")
    assert [n["id"] for n in notices.readable(owner, stored, "app1")] == ["app1:rejection"]
    assert "submitted_by" not in notices.readable(owner, stored, "app1")[0]
    assert notices.readable(Principal("clerk", "clerk-7"), stored, "app1")
    assert notices.readable(Principal("supervisor", "s"), stored, "app1")
    for stranger in (Principal("applicant", "430102199001019999"), Principal("clerk", "c-2")):
        with pytest.raises(Unknown):
            notices.readable(stranger, stored, "app1")
    with pytest.raises(Unknown):
        notices.readable(owner, [], "app1")
