"""Bearer tokens: what is accepted, what is refused and with which status."""

import time

import jwt
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from ops import cli, runner
from onestop.common import auth, tokens

KEY = "1f" * 32  # the issuer's Ed25519 key, as its 32-byte seed in hex
OTHER_KEY = "2e" * 32


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


@pytest.mark.parametrize(
    "role,sub,claims,message",
    [
        ("boss", "x", {}, "unknown role"),
        ("officer", "o1", {}, "office"),
        ("officer", "o1", {"office": "health"}, "office"),
        ("applicant", "", {}, "sub"),
        ("clerk", "c1", {"region": "43"}, "region"),
    ],
)
def test_tokens_without_what_their_role_needs_cannot_be_minted(role, sub, claims, message):
    with pytest.raises(ValueError, match=message):
        auth.mint(role, sub, key=KEY, **claims)


def forged(payload, key=KEY, algorithm="EdDSA", kid=None):
    base = {
        "iss": auth.ISSUER,
        "aud": auth.AUDIENCE,
        "sub": "s",
        "role": "operator",
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
        "jti": "j1",
    }
    private = tokens.load_private_key(key) if algorithm == "EdDSA" else key
    headers = {"kid": kid or tokens.kid_of(tokens.load_private_key(KEY).public_key())}
    return jwt.encode({**base, **payload}, private, algorithm=algorithm, headers=headers)


def kid_of(key):
    return tokens.kid_of(tokens.load_private_key(key).public_key())


@pytest.mark.parametrize(
    "make_token,reason",
    [
        (lambda: auth.mint("operator", "op", key=OTHER_KEY), "not one this service accepts"),
        (lambda: forged({}, key=OTHER_KEY), "(?i)signature"),  # another key under our kid
        (
            lambda: auth.mint("operator", "op", key=KEY, ttl_seconds=60, now=time.time() - 600),
            "expired",
        ),
        (lambda: forged({"aud": "someone-else"}), "(?i)audience"),
        (lambda: forged({"iss": "someone-else"}), "(?i)issuer"),
        (lambda: forged({"role": "root"}), "role"),
        (lambda: forged({"role": "officer"}), "office"),
        (lambda: forged({"exp": None}), "exp"),
        (lambda: forged({}, algorithm="none", key=None), "algorithm"),
        (
            lambda: forged({}, algorithm="HS256", key="k" * 40),
            "algorithm",
        ),  # the old shared-key tokens
        (lambda: "not.a.token", "invalid token"),
    ],
)
def test_bad_tokens_are_401_with_the_reason(make_token, reason):
    # minted when the test runs, not when the module is collected: a slow run must not
    # turn every case into "expired"
    with pytest.raises(auth.Unauthorized, match=reason) as raised:
        auth.verify(make_token(), KEY)
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
    assert kid_of(key) == kid_of(auth.signing_key())  # made once, then read
    assert (tmp_path / auth.KEY_FILE_NAME).read_text().startswith("-----BEGIN PRIVATE KEY")
    assert (tmp_path / auth.KEY_FILE_NAME).stat().st_mode & 0o077 == 0
    for bad in ("short", "k" * 64, "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----"):
        monkeypatch.setenv("AUTH_SIGNING_KEY", bad)
        with pytest.raises(ValueError, match="Ed25519"):
            auth.signing_key()
    monkeypatch.setenv("AUTH_SIGNING_KEY", KEY)
    assert kid_of(auth.signing_key()) == kid_of(KEY)
    monkeypatch.setenv("AUTH_SIGNING_KEY", tokens.new_private_key_pem())
    assert auth.signing_key()


def test_development_tokens_cover_every_role_and_verify():
    minted = runner.development_tokens(key=KEY)
    assert set(minted) == set(auth.ROLES)
    assert {auth.verify(t, KEY).role for t in minted.values()} == set(auth.ROLES)


def test_the_cli_mints_tokens_with_the_configured_key(monkeypatch, capsys):
    monkeypatch.setenv("AUTH_SIGNING_KEY", KEY)
    assert (
        cli.main(
            ["token", "--role", "officer", "--sub", "o7", "--office", "public_security.430102"]
        )
        == 0
    )
    principal = auth.verify(capsys.readouterr().out.strip(), KEY)
    assert principal.office == "public_security.430102" and principal.sub == "o7"
    with pytest.raises(SystemExit):
        cli.main(["token", "--role", "officer", "--sub", "o7"])  # no office
    # a clerk's token names their counter's region: without it they could not apply
    assert cli.main(["token", "--role", "clerk", "--sub", "c1"]) == 2
    assert "--region" in capsys.readouterr().err
    assert cli.main(["token", "--role", "clerk", "--sub", "c1", "--region", "430102"]) == 0
    assert auth.verify(capsys.readouterr().out.strip(), KEY).region == "430102"


def test_a_clerk_reads_what_they_submitted_at_the_counter_and_nothing_else():
    clerk = auth.Principal("clerk", "430102199001011234", None, "430102", None)
    own = {"role": "clerk", "sub": "430102199001011234"}
    online = {"role": "applicant", "sub": "430102199001011234"}  # same id, not a clerk's
    assert auth.may_read_application(clerk, "430102198505050021", own)
    assert not auth.may_read_application(clerk, "430102199001011234", online)
    assert not auth.may_read_application(clerk, "430102198505050021", None)
