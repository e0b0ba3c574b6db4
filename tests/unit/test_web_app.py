"""The screens' process (services/web/app.py): the built pages for every page path, nothing
outside the build, and the development sign-in only where it is switched on."""

import pytest
from werkzeug.test import Client

from onestop.common import tokens
from services.web.app import Web
from services.web.people import DEMO_PEOPLE


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "dist" / "assets").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "dist" / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the build")
    return tmp_path / "dist"


@pytest.fixture
def key():
    return tokens.load_private_key(tokens.new_private_key_pem())


def test_every_page_path_gets_the_page_and_assets_are_cached_for_good(dist, key):
    client = Client(Web(dist=dist, dev_sign_in=False, signing_key=key))
    for path in ("/", "/applications/A-1", "/officer/tasks/x:y"):
        page = client.get(path)
        assert page.status_code == 200 and b"id=root" in page.data
        assert page.headers["Cache-Control"] == "no-cache"
        assert "script-src" not in page.headers["Content-Security-Policy"]  # default-src 'self'
        assert "'unsafe-eval'" not in page.headers["Content-Security-Policy"]
    asset = client.get("/assets/index-abc.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]


@pytest.mark.parametrize(
    "path", ["/assets/missing.js", "/favicon.ico", "/../secret.txt", "/assets/../../secret.txt"]
)
def test_nothing_outside_the_build_and_no_page_for_a_missing_file(dist, key, path):
    answer = Client(Web(dist=dist, dev_sign_in=False, signing_key=key)).get(path)
    assert answer.status_code == 404 and b"outside the build" not in answer.data


def test_an_unbuilt_front_end_is_said_not_served_empty(tmp_path, key):
    client = Client(Web(dist=tmp_path / "none", dev_sign_in=False, signing_key=key))
    assert client.get("/health").status_code == 503
    page = client.get("/")
    assert page.status_code == 503 and page.json["error"] == "unbuilt"


def test_the_development_sign_in_is_off_unless_switched_on(dist, key):
    client = Client(Web(dist=dist, dev_sign_in=False, signing_key=key))
    assert client.get("/auth/config").json["dev"] is False
    assert client.get("/auth/dev/people").status_code == 404
    assert client.post("/auth/dev/sign-in", json={"person": "applicant"}).status_code == 404


def test_a_demo_person_gets_a_token_of_their_role_and_scope(dist, key):
    client = Client(Web(dist=dist, dev_sign_in=True, signing_key=key))
    people = client.get("/auth/dev/people").json["people"]
    assert {p["key"] for p in people} == set(DEMO_PEOPLE)
    answer = client.post("/auth/dev/sign-in", json={"person": "officer"})
    assert answer.status_code == 200
    claims = tokens.verify(answer.json["token"], tokens.jwks(key))
    assert claims["role"] == "officer" and claims["office"] == "health.430102"
    assert claims["exp"] - claims["iat"] == tokens.MAX_LIFETIME_SECONDS["officer"]


@pytest.mark.parametrize("body", [{"person": "root"}, {}, ["applicant"], None])
def test_an_unknown_person_is_a_400_naming_the_field(dist, key, body):
    client = Client(Web(dist=dist, dev_sign_in=True, signing_key=key))
    answer = client.post("/auth/dev/sign-in", json=body)
    assert answer.status_code == 400 and "person" in answer.json["fields"]
