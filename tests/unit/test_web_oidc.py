"""The screens' OpenID Connect sign-in (services/web/oidc.py) against a real OpenID provider
run in a thread (oidc-provider-mock), driven like a browser would: login, the provider's
form, the callback. Every failure ends on /signin/done#error=<reason>, never with a token."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import RSAKey
from oidc_provider_mock import User, run_server_in_thread
from prometheus_client import REGISTRY
from werkzeug.test import Client as WsgiClient

from onestop.common import tokens
from services.web.app import Web
from services.web.oidc import COOKIE, OidcSignIn, StateCookie, safe_next

PERSON = "430102199001011234"
PUBLIC = "http://screens.example"


@pytest.fixture(scope="module")
def provider():
    users = [
        User(sub="zhang", claims={"id_number": PERSON, "name": "张三"}),
        User(sub="no-id", claims={"name": "无证件"}),
        User(sub="bad-id", claims={"id_number": "12345", "name": "号码不对"}),
    ]
    with pytest.MonkeyPatch.context() as env, run_server_in_thread(user_claims=users) as server:
        env.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider and client speak http here
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def oidc(provider, key):
    return OidcSignIn(
        issuer=provider,
        client_id="onestop-web",
        client_secret="s3cret",
        public_url=PUBLIC,
        signing_key=key,
        id_number_claim="id_number",
        display_name="湖南省统一身份认证",
    )


def web(oidc, key):
    return WsgiClient(Web(dist="/nonexistent", dev_sign_in=False, signing_key=key, oidc=oidc))


def fragment(response):
    location = response.headers["Location"]
    assert location.startswith(f"{PUBLIC}/signin/done#"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def login(client, next_path="/applications"):
    response = client.get(f"/auth/oidc/login?next={next_path}")
    assert response.status_code == 303
    cookie = client.get_cookie(COOKIE, path="/auth/oidc")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    return response.headers["Location"]


def at_the_provider(authorize_url, sub):
    """The person types `sub` into the provider's form; the provider's redirect back."""
    form = requests.get(authorize_url, timeout=10)
    assert form.status_code == 200 and 'name="sub"' in form.text
    answer = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back(client, callback_url):
    parts = urlsplit(callback_url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC and parts.path == "/auth/oidc/callback"
    return client.get(f"{parts.path}?{parts.query}")


def signed_in_count():
    return (
        REGISTRY.get_sample_value("web_sign_ins_total", {"method": "oidc", "role": "applicant"})
        or 0
    )


def failures(reason):
    return REGISTRY.get_sample_value("web_sign_in_failures_total", {"reason": reason}) or 0


def test_a_person_the_provider_vouches_for_gets_an_applicant_token(oidc, key):
    before = signed_in_count()
    client = web(oidc, key)
    authorize = login(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["redirect_uri"] == [f"{PUBLIC}/auth/oidc/callback"]
    done = fragment(back(client, at_the_provider(authorize, "zhang")))
    assert done["next"] == "/applications"
    claims = tokens.verify(done["token"], tokens.KeySet([key.public_key()]))
    assert claims["role"] == "applicant" and claims["sub"] == PERSON and claims["name"] == "张三"
    # the state is spent: the same callback again has no cookie to match
    assert client.get_cookie(COOKIE, path="/auth/oidc") is None
    assert signed_in_count() == before + 1


def test_auth_config_names_the_provider(oidc, key):
    config = web(oidc, key).get("/auth/config").json
    assert config["oidc"] is True and config["oidc_name"] == "湖南省统一身份认证"


@pytest.mark.parametrize(
    "sub, reason", [("no-id", "id_number_missing"), ("bad-id", "id_number_invalid")]
)
def test_a_claim_that_is_not_an_id_number_gives_no_token(oidc, key, sub, reason):
    before, signed_in = failures(reason), signed_in_count()
    client = web(oidc, key)
    done = fragment(back(client, at_the_provider(login(client), sub)))
    assert done == {"error": reason}
    assert failures(reason) == before + 1 and signed_in_count() == signed_in


def test_a_callback_without_this_browsers_cookie_is_refused(oidc, key):
    client = web(oidc, key)
    callback = at_the_provider(login(client), "zhang")
    elsewhere = web(oidc, key)  # another browser: no cookie
    assert fragment(back(elsewhere, callback)) == {"error": "state_missing"}


def test_an_altered_or_expired_cookie_is_refused(oidc, key):
    client = web(oidc, key)
    callback = at_the_provider(login(client), "zhang")
    sealed = client.get_cookie(COOKIE, path="/auth/oidc").value
    payload, mac = sealed.split(".")
    client.set_cookie(COOKIE, payload + "x." + mac, path="/auth/oidc")
    assert fragment(back(client, callback)) == {"error": "state_missing"}
    cookies = StateCookie(b"k" * 32)
    assert cookies.open(cookies.seal({"state": "s"})) is not None
    assert cookies.open(cookies.seal({"state": "s"}, now=time.time() - 3600)) is None


def test_a_state_that_is_not_this_browsers_is_refused(oidc, key):
    client = web(oidc, key)
    callback = at_the_provider(login(client), "zhang")
    state_swapped = callback.replace("state=", "state=x")  # e.g. a link planted by someone
    assert fragment(back(client, state_swapped)) == {"error": "state_mismatch"}


def test_a_refusal_at_the_provider_is_said(oidc, key):
    client = web(oidc, key)
    authorize = login(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    response = client.get(f"/auth/oidc/callback?error=access_denied&state={state}")
    assert fragment(response) == {"error": "access_denied"}


def test_a_code_the_provider_does_not_know_is_refused(oidc, key):
    client = web(oidc, key)
    authorize = login(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    response = client.get(f"/auth/oidc/callback?code=made-up&state={state}")
    assert fragment(response) == {"error": "token_rejected"}


def test_a_code_used_with_another_nonce_is_refused(oidc, key):
    """The nonce kept in the cookie must be the one in the ID token (a replayed code of
    another sign-in fails)."""
    client = web(oidc, key)
    callback = at_the_provider(login(client), "zhang")
    kept = oidc.cookies.open(client.get_cookie(COOKIE, path="/auth/oidc").value)
    client.set_cookie(COOKIE, oidc.cookies.seal(dict(kept, nonce="another")), path="/auth/oidc")
    assert fragment(back(client, callback)) == {"error": "token_rejected"}


def test_an_id_token_signed_by_another_key_is_refused(oidc):
    forger = RSAKey.generate_key(2048, parameters={"kid": "forger"})
    now = int(time.time())
    forged = jwt.encode(
        {"alg": "RS256", "kid": "forger"},
        {
            "iss": oidc.provider.issuer,
            "aud": "onestop-web",
            "sub": "zhang",
            "id_number": PERSON,
            "nonce": "n",
            "iat": now,
            "exp": now + 300,
        },
        forger,
    )
    with pytest.raises(Exception) as raised:
        oidc.check_id_token({"id_token": forged}, "n")
    assert getattr(raised.value, "reason", None) == "token_rejected"


def test_an_unreachable_provider_is_said_not_a_500(key):
    down = OidcSignIn("http://127.0.0.1:9", "onestop-web", None, PUBLIC, signing_key=key)
    response = web(down, key).get("/auth/oidc/login")
    assert response.status_code == 303 and fragment(response) == {"error": "provider_unavailable"}


@pytest.mark.parametrize(
    "value, safe",
    [
        ("/applications/x?y=1", "/applications/x?y=1"),
        ("//evil.example/", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("/signin/done", None),
        (None, None),
    ],
)
def test_next_is_only_a_path_of_this_site(value, safe):
    assert safe_next(value) == safe


def test_from_env_reads_the_settings(monkeypatch, key):
    monkeypatch.setenv("WEB_OIDC_ISSUER", "https://id.hunan.example/")
    monkeypatch.setenv("WEB_OIDC_CLIENT_ID", "onestop")
    monkeypatch.setenv("WEB_OIDC_CLIENT_SECRET", "s")
    monkeypatch.setenv("WEB_OIDC_NAME", "湖南省统一身份认证")
    monkeypatch.delenv("WEB_PUBLIC_URL", raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://zwfw.hunan.example/")
    signin = OidcSignIn.from_env(signing_key=key)
    assert signin.provider.issuer == "https://id.hunan.example"
    assert signin.redirect_uri == "https://zwfw.hunan.example/auth/oidc/callback"
    assert signin.id_number_claim == "sub" and signin.display_name == "湖南省统一身份认证"
    monkeypatch.delenv("WEB_OIDC_CLIENT_ID")
    with pytest.raises(ValueError):
        OidcSignIn.from_env(signing_key=key)
