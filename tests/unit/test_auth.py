"""Bearer tokens: what is accepted, what is refused and with which status."""
import time

import jwt
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from ops import cli
from onestop.common import auth

KEY = "k" * 40
OTHER_KEY = "o" * 40


def request(token=None, header=None):
    headers = {}
    if header is not None:
        headers["Authorization"] = header
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Request(EnvironBuilder(path="/api/officer/tasks", headers=headers).get_environ())


def test_a_minted_token_verifies_to_its_principal():
    token = auth.mint("officer", "officer-1", key=KEY, office="health.430100", name="Wang")
    principal = auth.verify(token, KEY)
    assert principal == auth.Principal("officer", "officer-1", "health.430100", None, "Wang")
    assert principal.department == "health"
    applicant = auth.verify(auth.mint("applicant", "430102199001011234", key=KEY), KEY)
    assert applicant.is_applicant("430102199001011234")
    assert not applicant.is_applicant("430102199001011235")


@pytest.mark.parametrize("role,sub,claims,message", [
    ("boss", "x", {}, "unknown role"),
    ("officer", "o1", {}, "office"),
    ("officer", "o1", {"office": "health"}, "office"),
    ("applicant", "", {}, "sub"),
    ("clerk", "c1", {"region": "43"}, "region"),
])
def test_tokens_without_what_their_role_needs_cannot_be_minted(role, sub, claims, message):
    with pytest.raises(ValueError, match=message):
        auth.mint(role, sub, key=KEY, **claims)


def forged(payload, key=KEY, algorithm="HS256"):
    base = {"iss": auth.ISSUER, "aud": auth.AUDIENCE, "sub": "s", "role": "operator",
            "iat": int(time.time()), "exp": int(time.time()) + 60}
    return jwt.encode({**base, **payload}, key, algorithm=algorithm)


@pytest.mark.parametrize("token,reason", [
    (auth.mint("operator", "op", key=OTHER_KEY), "Signature"),
    (auth.mint("operator", "op", key=KEY, ttl_seconds=-5), "expired"),
    (forged({"aud": "someone-else"}), "(?i)audience"),
    (forged({"iss": "someone-else"}), "(?i)issuer"),
    (forged({"role": "root"}), "role"),
    (forged({"role": "officer"}), "office"),
    (jwt.encode({"sub": "s", "role": "operator"}, KEY, algorithm="HS256"), "exp"),
    (forged({}, algorithm="none", key=None), "alg"),
    ("not.a.token", "invalid token"),
])
def test_bad_tokens_are_401_with_the_reason(token, reason):
    with pytest.raises(auth.Unauthorized, match=reason) as raised:
        auth.verify(token, KEY)
    assert raised.value.status == 401


def test_the_guard_says_401_without_a_token_and_403_for_the_wrong_role():
    guard = auth.Guard(KEY)
    for bad in (request(), request(header="Basic dXNlcjpwdw=="), request(header="Bearer ")):
        with pytest.raises(auth.Unauthorized) as raised:
            guard.require(bad, "officer")
        assert raised.value.headers["WWW-Authenticate"].startswith("Bearer")
    applicant = auth.mint("applicant", "430102199001011234", key=KEY)
    with pytest.raises(auth.Forbidden) as raised:
        guard.require(request(applicant), "officer")
    assert raised.value.status == 403
    officer = auth.mint("officer", "o1", key=KEY, office="health.430100")
    assert guard.require(request(officer), "officer", "supervisor").office == "health.430100"


def test_the_signing_key_is_configuration_or_a_private_generated_file(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTH_SIGNING_KEY", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    key = auth.signing_key()
    assert key == auth.signing_key() and len(key) >= 32
    assert (tmp_path / auth.KEY_FILE_NAME).stat().st_mode & 0o077 == 0
    monkeypatch.setenv("AUTH_SIGNING_KEY", "short")
    with pytest.raises(ValueError, match="at least"):
        auth.signing_key()
    monkeypatch.setenv("AUTH_SIGNING_KEY", KEY)
    assert auth.signing_key() == KEY


def test_development_tokens_cover_every_role_and_verify():
    tokens = auth.development_tokens(key=KEY)
    assert set(tokens) == set(auth.ROLES)
    assert {auth.verify(t, KEY).role for t in tokens.values()} == set(auth.ROLES)


def test_the_cli_mints_tokens_with_the_configured_key(monkeypatch, capsys):
    monkeypatch.setenv("AUTH_SIGNING_KEY", KEY)
    assert cli.main(["token", "--role", "officer", "--sub", "o7",
                     "--office", "public_security.430102"]) == 0
    principal = auth.verify(capsys.readouterr().out.strip(), KEY)
    assert principal.office == "public_security.430102" and principal.sub == "o7"
    with pytest.raises(SystemExit):
        cli.main(["token", "--role", "officer", "--sub", "o7"])  # no office


def test_a_clerk_reads_what_they_submitted_at_the_counter_and_nothing_else():
    clerk = auth.Principal("clerk", "430102199001011234", None, "430102", None)
    own = {"role": "clerk", "sub": "430102199001011234"}
    online = {"role": "applicant", "sub": "430102199001011234"}  # same id, not a clerk's
    assert auth.may_read_application(clerk, "430102198505050021", own)
    assert not auth.may_read_application(clerk, "430102199001011234", online)
    assert not auth.may_read_application(clerk, "430102198505050021", None)
