"""The lab loop in Chromium with a real worker (issue 11): the panels beside the console follow each run without a
reload (AzMan store and scope lists, each check's result, the score, "No runs yet" gone), a finished lab reopens as
it ended, and "Start again" is a confirmed POST that keeps the earlier attempt listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from courseware.services import course_load
from labs.models import LabAttempt
from tests.browser.conftest import AuditedPage, run_console, wait_for_js
from tests.core.worker import celery_worker
from tests.labs.conftest import build_lab_course

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]




def test_the_panels_follow_each_run_and_start_again_keeps_the_attempt(
    audited_page: AuditedPage, alice: Any, tmp_path: Path, settings: Any
) -> None:
    course_load(build_lab_course(tmp_path / "course", ["io-trap-trace", "azman-scopes"]))
    audited_page.login_as(alice)
    page = audited_page.page
    url = reverse("labs:lab", kwargs={"course": "lab-course", "lab": "azman-scopes"})
    with celery_worker() as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        audited_page.open_lab(url)
        assert page.is_visible("#run-log li.empty")
        assert "appears here after your first run" in page.inner_text("#azman-store")
        page.wait_for_timeout(100)
        run_console(page, "azman create scope Finance")
        assert not page.is_visible("#run-log li.empty"), "'No runs yet' goes once there is a run"
        wait_for_js(page, "document.querySelector('#azman-store').innerText.includes('Finance')")
        assert "appears here after your first run" not in page.inner_text("#azman-store")
        wait_for_js(page, "[...document.querySelectorAll('#az-assign-scope option')].some(o => o.value === 'Finance')")
        audited_page.audit()
        # Interactive state: every AzMan form open and a hint shown are still axe-clean.
        for summary in page.locator(".azman details > summary").all():
            summary.click()
        page.click("#check-scope-exists button:has-text('Show a hint')")
        page.wait_for_selector("#hints-scope-exists .hint-ladder")
        audited_page.audit()

        # Check my work: the result appears beside each check, with the score, without a reload.
        page.evaluate("window.__sameDocument = true")
        runs_before = page.locator("#run-log article.run").count()
        page.click("button:has-text('Check my work')")
        wait_for_js(page, f"document.querySelectorAll('#run-log article.run').length > {runs_before}")
        page.wait_for_selector("#run-log > li:first-child article.run[aria-busy='false']", timeout=60_000)
        wait_for_js(page, "document.querySelector('#check-result-scope-exists').innerText.includes('Passed')")
        assert "Not yet" in page.inner_text("#check-result-vm1-in-scope")
        assert "You have" in page.inner_text("#check-result-vm1-in-scope")
        wait_for_js(page, "/best [1-9][0-9]* of/.test(document.querySelector('#lab-score').innerText)")
        assert page.evaluate("window.__sameDocument") is True
        audited_page.audit()

        # Start again asks first; cancelling keeps the attempt, accepting starts attempt 2 and lists attempt 1.
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("button:has-text('Start again')")
        page.wait_for_timeout(300)
        assert LabAttempt.objects.filter(user=alice).count() == 1
        page.once("dialog", lambda dialog: dialog.accept())
        audited_page.click_and_wait("button:has-text('Start again')")
        assert LabAttempt.objects.filter(user=alice).count() == 2
        assert "attempt 2" in page.inner_text("main")
        audited_page.click_and_wait("a:has-text('Attempt 1')")
        assert "as it ended, read-only" in page.inner_text("main")
        assert page.locator("#console-input").count() == 0
        assert "Passed" in page.inner_text("#check-result-scope-exists"), "the earlier attempt shows its checks"
