"""Real-browser tests: Debian's Chromium driven by Playwright, and axe-core on every page.

Playwright's own browser download is not reachable here; it drives /usr/bin/chromium
(`apt-get install chromium`, done by scripts/setup.sh). axe-core comes from the front end's
pinned npm packages (services/web/frontend/node_modules/axe-core).
"""

import json
import os
import re
from pathlib import Path

from tests.support.mesh import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "services" / "web" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
# where the tests leave their screenshots; `make screenshots` points it at docs/screenshots
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR", ROOT / ".test-data" / "screenshots"))
# axe-core's results of every page checked in this run, for the closing note and the README
AXE_REPORT = SCREENSHOTS / "axe-report.json"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# what a person may wait for before a test calls the screen broken (mesh work included)
PATIENCE_MS = 30_000


def launch(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make setup` (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


_axe_results = {}


def axe_check(page, name, impacts=("serious", "critical")):
    """Run axe-core on the page as it is now; returns the violations of `impacts` (the
    tests assert there are none) and records every violation's count under `name`."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
        }"""
    )
    counts = {}
    for violation in result:
        counts[violation["impact"]] = counts.get(violation["impact"], 0) + 1
    _axe_results[name] = {"url": re.sub(r"^https?://[^/]+", "", page.url), "counts": counts}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    AXE_REPORT.write_text(json.dumps(_axe_results, indent=2, ensure_ascii=False) + "\n")
    return [v for v in result if v["impact"] in impacts]


def screenshot(page, name, full_page=True):
    """A screenshot for the README (docs/screenshots/<name>.png with `make screenshots`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
