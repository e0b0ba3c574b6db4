"""Asymmetric bearer tokens (issue 13), their lifetimes, key ids and revocation (issue 14)."""

import json
import time

import jwt
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from onestop.common import auth, tokens
from ops import cli, runner

KEY = "3c" * 32
NEXT_KEY = "4d" * 32  # the key a rotation moves to
STRANGER = "5e" * 32  # nobody's key


def public(key):
    return tokens.load_private_key(key).public_key()


def kid(key):
    return tokens.kid_of(public(key))


def signed(claims, key=KEY, headers=None, drop=()):
    """A token signed with `key`, with these claims over sound ones, minus `drop`."""
    now = int(time.time())
    payload = {
        "iss": tokens.ISSUER,
        "aud": tokens.AUDIENCE,
        "sub": "430102199001011234",
        "role": "applicant",
        "iat": now,
        "exp": now + 600,
        "jti": "a1b2",
        **claims,
    }
    for name in drop:
        payload.pop(name)
    return jwt.encode(
        payload,
        tokens.load_private_key(key),
        algorithm="EdDSA",
        headers={"kid": kid(key)} if headers is None else headers,
    )


def refused(token, keys=KEY, revoked=None, match=None):
    with pytest.raises(tokens.InvalidToken, match=match):
        tokens.verify(token, keys, revoked)


def test_a_token_names_its_key_and_verifies_with_the_public_half_alone():
    token = tokens.mint("clerk", "c1", key=KEY, region="430102")
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": kid(KEY), "typ": "JWT"}
    claims = tokens.verify(token, tokens.KeySet([public(KEY)]))
    assert (
        claims["role"] == "clerk" and claims["jti"] and claims["exp"] - claims["iat"] == 12 * 3600
    )


@pytest.mark.parametrize(
    "role,hours",
    [("applicant", 8), ("clerk", 12), ("officer", 12), ("supervisor", 1), ("operator", 1)],
)
def test_each_role_has_a_longest_lifetime_and_longer_is_refused(role, hours):
    claims = {"office": "health.430102"} if role == "officer" else {}
    cap = hours * 3600
    assert tokens.MAX_LIFETIME_SECONDS[role] == cap
    default = tokens.verify(tokens.mint(role, "s1", key=KEY, **claims), KEY)
    assert default["exp"] - default["iat"] == cap
    with pytest.raises(ValueError, match="at most"):
        tokens.mint(role, "s1", key=KEY, ttl_seconds=cap + 1, **claims)
    now = int(time.time())
    refused(signed({"role": role, "iat": now, "exp": now + cap + 1, **claims}), match="at most")


def test_a_thirty_day_token_is_refused_even_signed_with_the_right_key():
    now = int(time.time())
    refused(signed({"role": "operator", "iat": now, "exp": now + 30 * 86400}), match="at most")
    # an iat moved back to shorten the apparent lifetime makes the token expired instead
    refused(
        signed({"role": "operator", "iat": now - 30 * 86400 + 600, "exp": now + 600}),
        match="at most",
    )


@pytest.mark.parametrize("missing", ["jti", "iat", "exp", "sub", "aud", "iss"])
def test_a_token_without_a_required_claim_is_refused(missing):
    refused(signed({}, drop=[missing]), match=missing if missing != "sub" else None)


@pytest.mark.parametrize(
    "claims,match",
    [
        ({"jti": ""}, "jti"),
        ({"jti": 7}, "(?i)jti|jwt id"),
        ({"jti": "x" * 200}, "jti"),
        ({"iat": "now"}, "iat"),
        ({"exp": 1.5e12}, None),
    ],
)
def test_odd_jti_iat_exp_are_refused(claims, match):
    refused(signed(claims), match=match)


def test_an_unknown_or_missing_kid_is_refused():
    refused(signed({}, key=STRANGER), match="not one this service accepts")
    refused(signed({}, headers={}), match="kid")
    # a token signed by a stranger that claims our kid fails its signature
    refused(signed({}, key=STRANGER, headers={"kid": kid(KEY)}), match="(?i)signature")
    hs = jwt.encode({"sub": "s"}, "k" * 40, algorithm="HS256", headers={"kid": kid(KEY)})
    refused(hs, match="algorithm")


def test_rotation_several_public_keys_are_accepted_each_by_its_kid(monkeypatch):
    both = tokens.jwks(KEY, NEXT_KEY)
    assert [k["kid"] for k in both["keys"]] == [kid(KEY), kid(NEXT_KEY)]
    assert all("d" not in k for k in both["keys"])  # public halves only
    monkeypatch.setenv("AUTH_PUBLIC_KEYS", json.dumps(both))
    keys = tokens.verification_keys()
    for key in (KEY, NEXT_KEY):
        assert tokens.verify(tokens.mint("applicant", "s", key=key), keys)["sub"] == "s"
    refused(tokens.mint("applicant", "s", key=STRANGER), keys, match="not one")
    monkeypatch.setenv("AUTH_PUBLIC_KEYS", json.dumps(tokens.jwks(NEXT_KEY)))  # KEY retired
    refused(tokens.mint("applicant", "s", key=KEY), tokens.verification_keys(), match="not one")


def test_the_public_key_set_comes_from_a_file_and_is_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTH_PUBLIC_KEYS", raising=False)
    path = tmp_path / "auth-public.jwks"
    path.write_text(json.dumps(tokens.jwks(KEY)))
    monkeypatch.setenv("AUTH_PUBLIC_KEYS_FILE", str(path))
    assert tokens.verification_keys().get(kid(KEY)) is not None
    lying = tokens.jwks(KEY)
    lying["keys"][0]["kid"] = kid(STRANGER)
    path.write_text(json.dumps(lying))
    with pytest.raises(ValueError, match="thumbprint"):
        tokens.verification_keys()
    path.write_text(json.dumps({"keys": []}))
    with pytest.raises(ValueError, match="empty"):
        tokens.verification_keys()


def test_without_public_keys_one_machine_verifies_with_the_development_keys_public_half(
    tmp_path, monkeypatch
):
    for name in ("AUTH_PUBLIC_KEYS", "AUTH_PUBLIC_KEYS_FILE", "AUTH_SIGNING_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    token = tokens.mint("applicant", "s")  # generates DATA_DIR/auth-signing.key
    assert tokens.verify(token, tokens.verification_keys())["sub"] == "s"


def test_the_runner_gives_its_processes_public_keys_only(monkeypatch):
    monkeypatch.delenv("AUTH_PUBLIC_KEYS", raising=False)
    monkeypatch.delenv("AUTH_PUBLIC_KEYS_FILE", raising=False)
    monkeypatch.setenv("AUTH_SIGNING_KEY", KEY)
    env = runner.verifier_env({"AUTH_SIGNING_KEY": KEY, "PATH": "/bin"})
    assert "AUTH_SIGNING_KEY" not in env and env["PATH"] == "/bin"
    assert json.loads(env["AUTH_PUBLIC_KEYS"]) == tokens.jwks(KEY)
    given = json.dumps(tokens.jwks(KEY, NEXT_KEY))
    assert runner.verifier_env({"AUTH_PUBLIC_KEYS": given})["AUTH_PUBLIC_KEYS"] == given


def test_a_revoked_jti_is_refused_and_others_are_not():
    first, second = (
        tokens.mint("officer", "o1", key=KEY, office="health.430102") for _ in range(2)
    )
    revoked = tokens.Revocations([tokens.revocation(jti=tokens.verify(first, KEY)["jti"])])
    refused(first, revoked=revoked, match="revoked")
    assert tokens.verify(second, KEY, revoked)["sub"] == "o1"


def test_revoking_a_subject_refuses_every_token_issued_until_then_not_later_ones():
    now = int(time.time())
    old = tokens.mint("applicant", "victim", key=KEY, now=now - 60)
    same_second = tokens.mint("applicant", "victim", key=KEY, now=now)
    other = tokens.mint("applicant", "bystander", key=KEY, now=now - 60)
    revoked = tokens.Revocations([tokens.revocation(sub="victim", now=now)])
    refused(old, revoked=revoked, match="revoked")
    refused(same_second, revoked=revoked, match="revoked")
    assert tokens.verify(other, KEY, revoked)
    later = tokens.mint("applicant", "victim", key=KEY, now=now + 1)
    assert tokens.verify(later, KEY, revoked)["sub"] == "victim"


def test_revocations_are_checked_and_forgotten_once_nothing_they_refuse_can_live():
    with pytest.raises(ValueError):
        tokens.revocation()
    with pytest.raises(ValueError):
        tokens.revocation(jti="a", sub="b")
    for bad in (
        {"jti": "a"},
        {"id": "sub:x", "jti": "a", "revoked_at": 1, "expires_at": 2},
        {"id": "sub:x", "sub": "x", "before": 1, "revoked_at": "1", "expires_at": 2},
        "jti:a",
        {"sub": ["x"], "before": 1},
    ):
        with pytest.raises(ValueError):
            tokens.check_revocation(bad)
    entry = tokens.revocation(sub="x", now=1000, by="ops.cli")
    assert tokens.check_revocation(json.loads(json.dumps(entry))) == entry
    assert entry["expires_at"] >= 1000 + tokens.LONGEST_LIFETIME_SECONDS
    revoked = tokens.Revocations([entry, tokens.revocation(jti="j", now=1000)])
    revoked.forget_expired(now=entry["expires_at"] - 1)
    assert len(revoked) == 2
    revoked.forget_expired(now=entry["expires_at"])
    assert len(revoked) == 0


def request(token):
    return Request(
        EnvironBuilder(path="/x", headers={"Authorization": f"Bearer {token}"}).get_environ()
    )


def test_a_guard_applies_a_revocation_event_at_once():
    token = tokens.mint("supervisor", "sup-1", key=KEY)
    guard = auth.Guard(KEY)
    assert guard.require(request(token), "supervisor").sub == "sup-1"
    guard.record_revocation(tokens.revocation(sub="sup-1"))
    with pytest.raises(auth.Unauthorized, match="revoked") as raised:
        guard.require(request(token), "supervisor")
    assert raised.value.status == 401
    with pytest.raises(ValueError):
        guard.record_revocation({"id": "nonsense"})


def test_the_cli_revoke_needs_exactly_one_of_jti_and_sub(capsys):
    assert cli.main(["token", "revoke"]) == 2
    assert cli.main(["token", "revoke", "--jti", "a", "--sub", "b"]) == 2
    assert cli.main(["token"]) == 2  # minting needs --role and --sub
    assert "--jti" in capsys.readouterr().err


def test_the_cli_prints_the_public_key_set_for_the_services(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("AUTH_SIGNING_KEY", NEXT_KEY)
    previous = tmp_path / "previous.jwks"
    previous.write_text(json.dumps(tokens.jwks(KEY)))
    assert cli.main(["token", "keys", "--also", str(previous)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [k["kid"] for k in printed["keys"]] == [kid(NEXT_KEY), kid(KEY)]
    assert "PRIVATE" not in json.dumps(printed) and all("d" not in k for k in printed["keys"])


class FakeCollection:
    """What the Authenticator uses of a pymongo collection."""

    def __init__(self):
        self.docs = {}

    def find(self, query):
        floor = query["expires_at"]["$gt"]
        return [dict(d) for d in self.docs.values() if d.get("expires_at", 0) > floor]

    def find_one(self, query):
        return self.docs.get(query["_id"])

    def replace_one(self, query, doc, upsert=False):
        self.docs[query["_id"]] = dict(doc)


def authenticator(collection):
    provider = auth.Authenticator()
    provider.keys, provider.collection = tokens.as_key_set(KEY), collection
    return provider


def test_a_service_keeps_revocations_in_its_store_and_loads_them_when_it_starts():
    store = FakeCollection()
    token = tokens.mint("operator", "op-1", key=KEY)
    running = authenticator(store)
    running.get_dependency(None).record_revocation(tokens.revocation(sub="op-1"))
    running.record(tokens.revocation(jti="gone", now=int(time.time()) - 2 * 86400))  # expired
    store.docs["junk"] = {"_id": "junk", "expires_at": 2**40}
    restarted = authenticator(store)
    restarted.load()
    assert len(restarted.revoked) == 1
    with pytest.raises(auth.Unauthorized, match="revoked"):
        restarted.get_dependency(None).require(request(token))
    # a later revocation of the same subject moves its cutoff forward, never back
    later = tokens.revocation(sub="op-1", now=int(time.time()) + 5)
    restarted.record(later)
    restarted.record(tokens.revocation(sub="op-1", now=int(time.time()) - 5))
    assert store.docs["sub:op-1"]["before"] == later["before"]
    with pytest.raises(ValueError):
        restarted.record({"id": "jti:x", "jti": "x"})
