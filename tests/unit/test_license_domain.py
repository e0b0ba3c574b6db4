"""E-licence rules without services: signing, verifying, status, wallet order, reuse."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.license import domain
from services.license.keys import KeyRing, load_or_create

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
KEY = Ed25519PrivateKey.generate()
KEYS = {domain.key_id(KEY.public_key()): KEY.public_key()}
HOLDER = "91430100MA4L0XXX1Y"


def decided(application_id="app1", holder=HOLDER):
    return {
        "application_id": application_id,
        "applicant": {"kind": "enterprise", "id_number": holder, "name": "Xiang Tea Ltd"},
    }


def task(item_code="HN-SJ-0001", data=None):
    return {
        "task_id": f"app1:{item_code}",
        "item_code": item_code,
        "department": "market_regulation",
        "region": "430100",
        "data": data if data is not None else {"reference_number": "HN-SJ-0001-ABC"},
    }


def license(validity=None, now=NOW, **changes):
    license_type = {
        "code": "business_license",
        "name": "Business Licence",
        "validity_days": validity,
    }
    built = domain.build_license(task(), decided(), license_type, now)
    built.update(changes)
    return domain.sign(built, KEY)


def test_a_license_carries_the_departments_data_and_verifies():
    issued = license()
    assert issued["number"] == "HN-SJ-0001-ABC"
    assert issued["data"] == {"reference_number": "HN-SJ-0001-ABC"}
    assert issued["expires_at"] is None
    assert domain.verify(issued, KEYS, NOW) == "valid"


def test_the_id_is_deterministic_so_issuing_twice_is_one_license():
    assert license()["id"] == license(now=NOW + timedelta(seconds=5))["id"]


@pytest.mark.parametrize(
    "change",
    [
        {"number": "OTHER"},
        {"holder": {"kind": "enterprise", "id_number": HOLDER, "name": "X"}},
        {"expires_at": "2099-01-01T00:00:00+00:00"},
        {"data": {}},
        {"extra": 1},
    ],
)
def test_any_change_to_signed_content_is_forged(change):
    assert domain.verify(dict(license(), **change), KEYS, NOW) == "forged"


@pytest.mark.parametrize(
    "change",
    [
        {"signature": "%%%"},
        {"signature": 5},
        {"key_id": "unknown"},
        {"key_id": ["list"]},
    ],
)
def test_a_broken_signature_or_key_is_forged_not_an_error(change):
    assert domain.verify(dict(license(), **change), KEYS, NOW) == "forged"


def test_status_fields_are_not_signed_so_revocation_does_not_break_the_signature():
    revoked = dict(
        license(), status="revoked", revoked_at=NOW.isoformat(), revocation_reason="fraud"
    )
    assert domain.verify(revoked, KEYS, NOW, revoked=True) == "revoked"


def test_expiry_follows_the_validity_of_the_license_type():
    issued = license(validity=730)
    assert issued["expires_at"] == (NOW + timedelta(days=730)).isoformat()
    assert domain.verify(issued, KEYS, NOW + timedelta(days=729)) == "valid"
    assert domain.verify(issued, KEYS, NOW + timedelta(days=730)) == "expired"
    assert domain.status_of(issued, NOW + timedelta(days=731)) == "expired"


def test_the_wallet_lists_valid_licenses_first_newest_first():
    old = dict(license(), id="a", issued_at="2026-01-01T00:00:00+00:00")
    new = dict(license(), id="b", issued_at="2026-02-01T00:00:00+00:00")
    revoked = dict(license(), id="c", status="revoked", issued_at="2026-03-01T00:00:00+00:00")
    expired = dict(license(validity=1), id="d", issued_at="2025-01-01T00:00:00+00:00")
    ordered = domain.wallet_order([revoked, old, expired, new], NOW + timedelta(days=2))
    assert [d["id"] for d in ordered] == ["b", "a", "d", "c"]
    assert [d["status"] for d in ordered] == ["valid", "valid", "expired", "revoked"]


def test_a_shared_view_has_only_what_a_material_needs():
    view = domain.shared_view(license())
    assert "data" not in view and "signature" not in view and "application_id" not in view
    assert HOLDER not in str(view)
    assert view["holder_name"] == "Xiang Tea Ltd" and view["license_type"] == "business_license"


@pytest.mark.parametrize(
    "stored, holder, wanted, message",
    [
        (None, HOLDER, "business_license", "there is no e-licence"),
        ("ok", "430102199001011234", "business_license", "belongs to someone else"),
        ("ok", HOLDER, "birth_certificate", "is a business_license"),
        ("revoked", HOLDER, "business_license", "was revoked"),
        ("expired", HOLDER, "business_license", "expired on"),
    ],
)
def test_a_license_that_cannot_fill_a_material_says_why(stored, holder, wanted, message):
    doc = {
        None: None,
        "ok": license(),
        "expired": license(validity=1, now=NOW - timedelta(days=3)),
        "revoked": dict(license(), status="revoked", revoked_at=NOW.isoformat()),
    }[stored]
    assert message in domain.refusal(doc, "L1", holder, wanted, NOW)
    assert domain.refusal(license(), "L1", HOLDER, "business_license", NOW) is None


def test_reuse_picks_the_newest_valid_license_of_each_wanted_type():
    old = dict(license(), id="old", issued_at="2026-01-01T00:00:00+00:00")
    new = dict(license(), id="new", issued_at="2026-02-01T00:00:00+00:00")
    revoked = dict(license(), id="rev", status="revoked", issued_at="2026-03-01T00:00:00+00:00")
    chosen = domain.newest_valid_by_type([old, revoked, new], {"business_license"}, NOW)
    assert chosen["business_license"]["id"] == "new"
    assert domain.newest_valid_by_type([old], {"birth_certificate"}, NOW) == {}


def test_the_key_ring_publishes_current_and_retired_keys(tmp_path):
    current = load_or_create(tmp_path / "keys" / "signing.pem")
    assert (
        load_or_create(tmp_path / "keys" / "signing.pem").public_key().public_bytes_raw()
        == current.public_key().public_bytes_raw()
    )
    retired = domain.public_jwk(KEY.public_key())
    ring = KeyRing(current, [retired])
    assert [k["kid"] for k in ring.jwks["keys"]] == [
        domain.key_id(current.public_key()),
        retired["kid"],
    ]
    assert domain.verify(license(), ring.public_keys, NOW) == "valid"  # signed by the old key


@given(st.binary(max_size=80))
def test_base64url_has_one_text_per_byte_string(raw):
    text = domain.b64url(raw)
    assert domain.unb64url(text) == raw
    # padding, white space, standard-alphabet characters: the same bytes, another text
    for other in (
        text + "=",
        text + "==",
        text + "\n",
        " " + text,
        text.replace("-", "+") if "-" in text else text + "/",
    ):
        with pytest.raises(ValueError):
            domain.unb64url(other)
    with pytest.raises(ValueError):  # b"\0" is "AA"; "AB" has a stray trailing bit
        domain.unb64url("AB")


def test_revocation_is_found_by_id_and_key_not_by_the_signatures_text():
    issued = license()
    stored = dict(issued, status="revoked", signature="something else")
    result, answer = domain.verification(issued, stored, KEYS, NOW)
    assert result == "revoked" and answer["license"] == domain.signed_content(issued)


def test_the_public_verification_masks_the_holder_and_identifiers_in_the_data():
    person = domain.sign(
        dict(
            domain.build_license(
                task(data={"reference_number": "R-1", "mother": "430102199001011234"}),
                {
                    "application_id": "app1",
                    "applicant": {
                        "kind": "person",
                        "id_number": "430102199001011234",
                        "name": "李华",
                    },
                },
                {"code": "birth_certificate", "name": "Birth", "validity_days": None},
                NOW,
            )
        ),
        KEY,
    )
    result, answer = domain.public_verification(person, person["id"], KEYS, NOW)
    shown = answer["license"]
    assert result == "valid"
    assert shown["holder"] == {"kind": "person", "id_number": "430*************34", "name": "李*"}
    assert "430102199001011234" not in str(answer) and shown["data"]["reference_number"] == "R-1"
    assert "signature" not in shown
    # an enterprise's name is public (it is printed on its business licence)
    _, enterprise = domain.public_verification(license(), license()["id"], KEYS, NOW)
    assert enterprise["license"]["holder"]["name"] == "Xiang Tea Ltd"


def test_the_public_verification_says_revoked_forged_or_unknown():
    revoked = dict(license(), status="revoked", revoked_at="x", revocation_reason="error")
    assert domain.public_verification(revoked, revoked["id"], KEYS, NOW)[0] == "revoked"
    tampered = dict(license(), number="X")
    result, answer = domain.public_verification(tampered, tampered["id"], KEYS, NOW)
    assert result == "forged" and "license" not in answer
    with pytest.raises(domain.Unknown):
        domain.public_verification(None, "L0", KEYS, NOW)
