"""Lab 1 end to end in Chromium, as a learner, with a real Celery worker: run both writes, step through a trace,
compare them side by side, answer the questions, and check the work."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from courseware.services import course_load
from labs.models import LabAttempt
from tests.browser.conftest import run_console, wait_for_js
from tests.conftest import PASSWORD
from tests.core.worker import celery_worker
from tests.labs.conftest import build_lab_course

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]




def test_a_learner_does_the_io_trap_trace_lab(audited_page: Any, alice: Any, tmp_path: Path, settings: Any) -> None:
    course_load(build_lab_course(tmp_path / "course", ["io-trap-trace"]))
    page = audited_page.page
    audited_page.goto("/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    audited_page.click_and_wait("main button[type=submit]")

    with celery_worker() as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        audited_page.open_lab(reverse("labs:lab", kwargs={"course": "lab-course", "lab": "io-trap-trace"}))
        attempt = LabAttempt.objects.get(user=alice)
        legacy, enlightened = attempt.params["legacy_vm"], attempt.params["enlightened_vm"]
        assert legacy in page.inner_text(".tasks")

        run_console(page, f"io write 100KB on {legacy}")
        first = page.locator("#run-log article.run").first
        expected = "took the emulated path: 40 VM exits, 40 port accesses, 88 user/kernel crossings in the root"
        assert expected in first.inner_text()
        run_console(page, f"io write 100KB on {enlightened}")
        assert "took the synthetic path" in page.locator("#run-log article.run").first.inner_text()
        audited_page.audit()

        # Step through the emulated trace with the keyboard.
        audited_page.click_and_wait(f"#run-log article.run:has-text('{legacy}') >> text=Step through the trace")
        page.locator("#tv-a [data-tv-list] a").first.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        assert page.inner_text("#tv-a [data-tv-live]").startswith("Step 4 of ")
        page.select_option("#tv-a-filter", "emulate")
        page.click('#tv-a [data-tv-action="forward"]')
        assert "vmwp.exe" in page.inner_text("#tv-a [data-tv-detail-fields]")
        audited_page.audit()

        # Side by side.
        page.go_back()
        page.wait_for_load_state("load")
        audited_page.audit()
        audited_page.click_and_wait("a.button:has-text('Compare two I/O traces')")
        audited_page.click_and_wait(".compare-pick button[type=submit]")
        assert page.locator("[data-trace-compare] .trace-viewer").count() == 2
        audited_page.audit()

        audited_page.open_lab(reverse("labs:lab", kwargs={"course": "lab-course", "lab": "io-trap-trace"}))
        run_console(
            page,
            "answer emulated-port-accesses 40\nanswer emulated-root-crossings 88\nanswer emulator-process vmwp.exe\n"
            "answer synthetic-root-user 0\nanswer why-no-root-user b",
        )
        runs_before = page.locator("#run-log article.run").count()
        page.click("button:has-text('Check my work')")
        wait_for_js(page, f"document.querySelectorAll('#run-log article.run').length > {runs_before}")
        page.wait_for_selector("#run-log > li:first-child article.run[aria-busy='false']", timeout=60_000)
        result = page.inner_text("#run-log > li:first-child")
        assert re.search(r"Every required check passes: lab complete\. 7 of 7 checks pass", result)
        audited_page.audit()
    attempt.refresh_from_db()
    assert attempt.status == LabAttempt.Status.COMPLETED and attempt.best_points == 11
