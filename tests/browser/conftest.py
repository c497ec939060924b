"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Every page a test visits is audited with axe-core (vendored, pinned, in tests/browser/vendor/): a serious or
critical violation fails the test. `AuditedPage.goto` and `.click_and_wait` audit for you; after an htmx swap call
`.audit()`. At teardown the fixture checks that every page that loaded was audited.

Every page must also be clean: a JavaScript console error, an uncaught exception, a request that failed or a
response of 400 or more fails the test (at the next audit and at teardown). A test that means to see an error status
says so with `audited_page.allow_status(404)`.
"""

from __future__ import annotations

import os
import shutil
import time
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


def wait_for_js(page: Any, expression: str, timeout: int = 15_000) -> Any:
    """Wait until a JavaScript expression is truthy in the page, and return its value.

    Playwright's `wait_for_function` compiles its predicate with `new Function`, which the site's
    Content-Security-Policy (no 'unsafe-eval') refuses; `page.evaluate` of a plain expression goes through the
    DevTools protocol, which the policy does not govern.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} ms waiting for: {expression}")
        page.wait_for_timeout(100)


def run_console(page: Any, command: str) -> None:
    """Type a lab console command, run it with Ctrl+Enter, and wait until its run is finished."""
    runs_before = page.locator("#run-log article.run").count()
    page.fill("#console-input", command)
    page.press("#console-input", "Control+Enter")
    wait_for_js(page, f"document.querySelectorAll('#run-log article.run').length > {runs_before}")
    page.wait_for_selector("#run-log > li:first-child article.run[aria-busy='false']", timeout=60_000)


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    message = f"Chromium not found at {CHROMIUM}: apt-get install chromium"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (REQUIRE_BROWSER=1: browser tests must run)")
    pytest.skip(message)


VNU_VERSION = "26.9.27"  # the Nu HTML Checker, from the npm registry (vnu-jar); never committed, installed on demand
VNU_DIR = Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parents[2] / "var")) / f"vnu-{VNU_VERSION}"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def vnu_jar() -> Path:
    """The Nu HTML Checker's jar, installed with npm into var/ the first time (needs npm and Java)."""
    import subprocess

    jar = VNU_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not jar.exists():
        if not shutil.which("npm") or not shutil.which("java"):
            message = "the Nu HTML Checker needs npm and Java (apt-get install npm default-jre-headless)"
            if os.environ.get("REQUIRE_BROWSER") == "1":
                pytest.fail(message)
            pytest.skip(message)
        VNU_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(VNU_DIR), "--no-audit", "--no-fund", f"vnu-jar@{VNU_VERSION}"],
            check=True,
            timeout=600,
        )
    return jar


def validate_html(jar: Path, files: list[Path]) -> list[str]:
    """Nu HTML Checker errors for the given HTML files ("file:line: message"), or an empty list."""
    import json
    import subprocess

    done = subprocess.run(
        ["java", "-Xss16m", "-jar", str(jar), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(done.stderr or "{}").get("messages", [])
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')}" for m in messages]


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
        self.problems: list[str] = []
        self.allowed_statuses: set[int] = set()
        page.on("load", lambda: self.loaded.append(page.url))
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught exception on {page.url}: {error}"))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def login_as(self, user: Any) -> None:
        """Sign `user` in without the form (a session made by Django's test client, given to the browser)."""
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.base_url}])

    def allow_status(self, *statuses: int) -> None:
        """Let responses with these HTTP statuses pass (a test that checks an error page on purpose)."""
        self.allowed_statuses.update(statuses)

    def _on_console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            allowed = (f"status of {status} " for status in self.allowed_statuses)
            if message.text.startswith("Failed to load resource") and any(a in message.text for a in allowed):
                return
            self.problems.append(f"console {message.type} on {self.page.url}: {message.text}")

    def _on_request_failed(self, request: Any) -> None:
        failure = request.failure or ""
        # A navigation away cancels requests still in flight (an htmx poll, say): that is not a broken page.
        if "ERR_ABORTED" in failure and request.resource_type in ("xhr", "fetch", "document"):
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400 and response.status not in self.allowed_statuses:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def assert_clean(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "the page logged errors or had failed requests:\n" + "\n".join(problems)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)
        self.audit()

    def open_lab(self, path: str) -> None:
        """Open a lab page and, the first time, press "Start the lab" (starting is a POST)."""
        self.goto(path)
        if self.page.locator("form button:has-text('Start the lab')").count():
            self.click_and_wait("form button:has-text('Start the lab')")

    def click_and_wait(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)
        self.audit()

    def audit(self) -> None:
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: an injected <script> tag would be refused by the site's CSP.
            page.evaluate(AXE_JS.read_text() + "\n;true")
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                  .map(v => `${v.id} (${v.impact}): ${v.help} -- `
                    + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
            }"""
        )
        self.audited.add(page.url)
        self.assert_clean()
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
    problems = list(audited.problems)
    context.close()
    assert not problems, "the page logged errors or had failed requests:\n" + "\n".join(problems)
    assert not unaudited, f"pages loaded but never audited with axe-core: {unaudited}"
