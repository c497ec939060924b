"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Every page a test visits is audited with axe-core (vendored, pinned, in tests/browser/vendor/): a serious or
critical violation fails the test. `AuditedPage.goto` and `.click_and_wait` audit for you; after an htmx swap call
`.audit()`. At teardown the fixture checks that every page that loaded was audited.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "vendor" / "axe-core-4.11.0" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# The live server runs in a thread of this process; Django refuses sync DB access from Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    message = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (REQUIRE_BROWSER=1: browser tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class AuditedPage:
    """A Playwright page whose every visited page is checked with axe-core."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.loaded: list[str] = []
        self.audited: set[str] = set()
        self.violations: list[str] = []
        page.on("load", lambda: self.loaded.append(page.url))

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)
        self.audit()

    def click_and_wait(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)
        self.audit()

    def audit(self) -> None:
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=AXE_JS.read_text())
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                  .map(v => `${v.id} (${v.impact}): ${v.help} -- `
                    + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
            }"""
        )
        self.audited.add(page.url)
        for violation in result:
            self.violations.append(f"{page.url}: {violation}")
        assert not result, "axe-core found serious accessibility violations:\n" + "\n".join(result)


@pytest.fixture
def audited_page(browser: Any, live_server: Any) -> Iterator[AuditedPage]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    audited = AuditedPage(page, live_server.url)
    yield audited
    unaudited = [url for url in audited.loaded if url not in audited.audited]
    context.close()
    assert not unaudited, f"pages loaded but never audited with axe-core: {unaudited}"
