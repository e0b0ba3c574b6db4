"""A first visit's cost: what a phone downloads to show the home page (README, "Screens").

The numbers go to page-weight.json beside the screenshots; the test holds the budget the
README promises and checks that nothing is fetched from another site."""

import json
from urllib.parse import urlparse

from playwright.sync_api import expect

from tests.support.browser import SCREENSHOTS

# the README's promise for a first visit of the home page, compressed bytes on the wire
BUDGET_BYTES = 150 * 1024


def test_first_visit_of_the_home_page_is_small_and_same_site(phone, mesh):
    loaded = []
    phone.on("requestfinished", lambda request: loaded.append(request))
    phone.goto("/", wait_until="networkidle")
    expect(phone.get_by_role("link", name="出生一件事")).to_be_visible()
    phone.wait_for_load_state("networkidle")
    origin = urlparse(mesh.base).netloc
    rows = []
    for request in loaded:
        sizes = request.sizes()
        response = request.response()
        rows.append(
            {
                "path": urlparse(request.url).path,
                "type": request.resource_type,
                "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
                "encoding": response.header_value("content-encoding") if response else None,
            }
        )
        assert urlparse(request.url).netloc == origin, f"fetched from elsewhere: {request.url}"
    total = sum(r["bytes"] for r in rows)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "page-weight.json").write_text(
        json.dumps({"requests": len(rows), "bytes": total, "files": rows}, indent=2) + "\n"
    )
    scripts = [r for r in rows if r["type"] == "script"]
    assert scripts and all(r["encoding"] == "gzip" for r in scripts if r["bytes"] > 2048)
    # the form library (rjsf and its validator) loads with the forms, not on the home page
    assert not any(name in r["path"] for r in rows for name in ("ajv", "rjsf", "validator"))
    assert total <= BUDGET_BYTES, f"first visit {total} bytes > {BUDGET_BYTES}: {rows}"
