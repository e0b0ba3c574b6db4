"""Anyone: find a scenario package by browsing or by saying what they want, in Chinese."""

import re

from playwright.sync_api import expect

from tests.support.browser import axe_check, screenshot


def test_home_lists_the_26_packages_by_audience_in_chinese(page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name="全部一件事（26 项）")).to_be_visible()
    expect(page.get_by_role("link", name="出生一件事")).to_be_visible()
    page.get_by_role("button", name="企业").click()
    expect(page.get_by_role("link", name="企业开办一件事")).to_be_visible()
    expect(page.get_by_role("link", name="出生一件事")).to_have_count(0)
    assert axe_check(page, "home") == []
    screenshot(page, "home")


def test_search_in_everyday_chinese_finds_the_package(page):
    page.goto("/")
    for words, package in [("生孩子", "出生一件事"), ("开公司", "企业开办一件事")]:
        page.get_by_label("用自己的话说说要办的事").fill(words)
        page.keyboard.press("Enter")
        first = page.locator("ol.results > li").first
        expect(first.get_by_role("link")).to_have_text(package)
    first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/scenarios/enterprise_startup$"))


def test_english_switch_and_phone_layout(phone):
    phone.goto("/")
    phone.get_by_role("button", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.get_by_role("heading", name="All scenario packages (26)")).to_be_visible()
    # nothing wider than the phone's screen: no sideways scrolling
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_check(phone, "home-phone-en") == []
    screenshot(phone, "home-phone")


def test_unknown_page_and_api_paths_stay_apart(page, mesh):
    import requests

    assert (
        requests.get(mesh.base + "/applications/whatever", timeout=10)
        .headers["Content-Type"]
        .startswith("text/html")
    )
    api = requests.get(mesh.base + "/api/nothing-here", timeout=10)
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    assert requests.get(mesh.base + "/metrics", timeout=10).status_code == 404
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
