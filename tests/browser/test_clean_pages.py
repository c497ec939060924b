"""Clean pages (issue 11): no console error, no failed request, valid ids, and everything working under the site's
Content-Security-Policy. The audited_page fixture fails a test on any console error or failed request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from courseware.services import course_load
from tests.browser.conftest import AuditedPage, wait_for_js
from tests.labs.conftest import build_lab_course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _submit(page: Any, command: str) -> None:
    page.fill("#console-input", command)
    page.click(".console-form button[type=submit]")


def test_help_stays_until_the_next_submission_without_console_errors(
    audited_page: AuditedPage, alice: Any, tmp_path: Path
) -> None:
    course_load(build_lab_course(tmp_path / "course", ["io-trap-trace"]))
    audited_page.login_as(alice)
    audited_page.open_lab(reverse("labs:lab", kwargs={"course": "lab-course", "lab": "io-trap-trace"}))
    page = audited_page.page

    _submit(page, "help")
    wait_for_js(page, "document.querySelectorAll('#console-feedback .help-text').length > 0")
    page.wait_for_timeout(500)  # the old after-request handler emptied the box right after the swap
    assert "show" in page.inner_text("#console-feedback")
    audited_page.audit()

    # A parse error stays too; the next submission clears both the reply and the textarea.
    _submit(page, "frobnicate the host")
    wait_for_js(page, "document.querySelector('#console-feedback').innerText.length > 0")
    page.wait_for_timeout(300)
    assert page.inner_text("#console-feedback").strip()
    assert page.input_value("#console-input") == "frobnicate the host", "a refused command stays for editing"

    # An accepted command on a lab without the AzMan console: no htmx:oobErrorNoTarget for its absent forms.
    _submit(page, "show vms")
    wait_for_js(page, "document.querySelectorAll('#run-log article.run').length > 0")
    page.wait_for_timeout(300)
    assert page.inner_text("#console-feedback").strip() == ""
    assert page.input_value("#console-input") == ""
    audited_page.audit()


def test_pages_carry_the_csp_and_no_inline_script(audited_page: AuditedPage, alice: Any, tmp_path: Path) -> None:
    course_load(build_lab_course(tmp_path / "course", ["io-trap-trace", "azman-scopes"]))
    audited_page.login_as(alice)
    page = audited_page.page
    lab_url = reverse("labs:lab", kwargs={"course": "lab-course", "lab": "azman-scopes"})
    audited_page.open_lab(lab_url)
    response = page.goto(audited_page.base_url + lab_url)
    audited_page.audit()
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy
    assert page.evaluate("JSON.parse(document.querySelector('meta[name=htmx-config]').content).allowEval") is False
    inline = page.evaluate(
        """[...document.querySelectorAll('script:not([src])')].length
           + [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(
               a => a.name.startsWith('on') || a.name.startsWith('hx-on') || a.name.startsWith('data-hx-on'))).length"""
    )
    assert inline == 0
    assert page.evaluate("[...document.querySelectorAll('[hx-get],[hx-post],[hx-trigger],[hx-swap]')].length") == 0
    # The favicon is ours (a missing /favicon.ico would fail the test as a failed request).
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("favicon.svg")
    # The AzMan form posts through htmx under the CSP: its run appears, and the fresh tokens find their forms.
    page.click("summary:has-text('New scope')")
    page.fill("#az-scope-name", "Finance")
    page.click("form:has(#az-scope-name) button[type=submit]")
    wait_for_js(page, "document.querySelectorAll('#run-log article.run').length > 0")
    audited_page.audit()
