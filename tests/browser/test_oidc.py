"""OpenID Connect sign-in in a real browser against a real OpenID provider run locally
(oidc-provider-mock in a thread): the sign-in page offers the provider, the person signs in
on the provider's own page, and lands on the screens as an applicant whose token the API
accepts. A mesh of its own, configured with WEB_OIDC_* (and the development sign-in off,
as in production)."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import axe_check, screenshot
from tests.support.mesh import PORT_BASE, TEST_VHOST, Mesh, reset_vhost

PROVIDER_NAME = "湖南省统一身份认证（测试）"
PERSON = "430102198512120016"  # never applied for anything


@pytest.fixture(scope="module")
def provider():
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(sub="zhangsan", claims={"id_number": PERSON, "name": "张三"}),
        User(sub="visitor", claims={"id_number": "not-an-id", "name": "访客"}),
    ]
    with pytest.MonkeyPatch.context() as env, run_server_in_thread(user_claims=users) as server:
        # the provider checks that requests come over https unless told otherwise (here: http)
        env.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def mesh(tmp_path_factory, provider):
    port_base = PORT_BASE + 900
    running = Mesh(
        tmp_path_factory.mktemp("oidc-mesh"),
        reset_vhost(f"{TEST_VHOST}_oidc"),
        port_base=port_base,
        extra_env={
            "WEB_DEV_SIGNIN": "false",
            "WEB_OIDC_ISSUER": provider,
            "WEB_OIDC_CLIENT_ID": "onestop-web",
            "WEB_OIDC_CLIENT_SECRET": "test-client-secret",
            "WEB_OIDC_ID_NUMBER_CLAIM": "id_number",
            "WEB_OIDC_NAME": PROVIDER_NAME,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port_base}",
            "AUTHLIB_INSECURE_TRANSPORT": "1",
        },
    ).start()
    yield running
    running.stop()


def tab_to(page, locator, presses=30):
    for _ in range(presses):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    pytest.fail(f"never reached {locator} with Tab")


def test_signing_in_with_the_identity_provider_by_keyboard_lands_as_an_applicant(page, mesh):
    page.goto("/applications")
    sign_in = page.get_by_role("banner").get_by_role("link", name="登录", exact=True)
    tab_to(page, sign_in)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="统一身份认证登录")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("演示身份"))).to_have_count(0)
    assert axe_check(page, "signin-oidc") == []
    screenshot(page, "signin-oidc")

    button = page.get_by_role("link", name=f"用{PROVIDER_NAME}登录")
    tab_to(page, button)
    page.keyboard.press("Enter")
    # the provider's own page: type the subject, submit
    subject = page.locator("input[name=sub]")
    expect(subject).to_be_visible()
    assert page.url.startswith(mesh.env["WEB_OIDC_ISSUER"])
    expect(subject).to_be_focused()  # autofocus
    page.keyboard.type("zhangsan")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/applications$"))
    expect(page.get_by_text("当前用户：张三（申请人）")).to_be_visible()
    # the token never stays in the address bar, and the API accepts it as the applicant's
    assert "token" not in page.url
    listing = page.evaluate(
        """async () => {
            const token = sessionStorage.getItem("onestop.token");
            const r = await fetch("/api/applications", {headers: {Authorization: `Bearer ${token}`}});
            return {status: r.status, body: await r.json()};
        }"""
    )
    assert listing["status"] == 200 and listing["body"]["applications"] == [], json.dumps(listing)
    claims = page.evaluate(
        "JSON.parse(atob(sessionStorage.getItem('onestop.token').split('.')[1]"
        ".replace(/-/g, '+').replace(/_/g, '/')))"
    )
    assert claims["sub"] == PERSON and claims["role"] == "applicant"
    assert axe_check(page, "applications-after-oidc") == []


def test_an_identity_without_a_valid_id_number_is_told_why_in_chinese(page, mesh):
    page.goto("/signin")
    page.get_by_role("link", name=f"用{PROVIDER_NAME}登录").click()
    page.locator("input[name=sub]").fill("visitor")
    page.get_by_role("button", name="Authorize").click()
    expect(page).to_have_url(re.compile(r"/signin/done$"))
    expect(page.get_by_role("heading", name="登录未成功")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile("不是有效的18位身份证号码或统一社会信用代码")
    )
    assert page.evaluate("sessionStorage.getItem('onestop.token')") is None
    assert axe_check(page, "signin-failed") == []


def test_declining_at_the_provider_signs_nobody_in(page, mesh):
    page.goto("/signin?next=/licences")
    page.get_by_role("link", name=f"用{PROVIDER_NAME}登录").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("取消了授权"))
    assert page.evaluate("sessionStorage.getItem('onestop.token')") is None
