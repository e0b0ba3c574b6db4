"""Browser tests: the mesh as `make run` starts it (its own virtual host and ports), the
screens served through the gateway, driven by Chromium like a person would."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.browser import DESKTOP, PATIENCE_MS, PHONE, launch
from tests.support.mesh import start_clocked_mesh

expect.set_options(timeout=PATIENCE_MS)


@pytest.fixture(scope="session")
def mesh(tmp_path_factory):
    # a test may move the mesh's clock for a moment (mesh.clock_file: seconds), e.g. to file
    # work that is overdue today
    running = start_clocked_mesh(tmp_path_factory.mktemp("browser-mesh"), "browser", 800)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def _page(browser, mesh, viewport, **options):
    context = browser.new_context(
        base_url=mesh.base,
        viewport=viewport,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        # no bypass_csp: the pages run under their real Content-Security-Policy, so a
        # library that needs eval fails here as it would for a citizen (axe-core is
        # evaluated through the DevTools protocol, which the CSP does not govern)
        **options,
    )
    context.set_default_timeout(PATIENCE_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return context, page


@pytest.fixture
def page(browser, mesh):
    """A desktop-size page in a fresh context (nobody signed in)."""
    context, page = _page(browser, mesh, DESKTOP)
    yield page
    context.close()
    assert not page.js_errors, f"JavaScript errors on the page: {page.js_errors}"


@pytest.fixture
def phone(browser, mesh):
    """A phone-size page (390 x 844, touch) in a fresh context."""
    context, page = _page(browser, mesh, PHONE, has_touch=True, is_mobile=True)
    yield page
    context.close()
    assert not page.js_errors, f"JavaScript errors on the page: {page.js_errors}"


def sign_in(page, person_name):
    """Sign in through the development sign-in page, as a person would: open it, pick the
    demo person by their name (services/web/people.py)."""
    page.goto("/signin")
    page.get_by_role("button", name=person_name).click()
    page.wait_for_url(lambda url: "/signin" not in url)
