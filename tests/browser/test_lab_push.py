"""In Chromium with a real Celery worker: a lab result appears through one long-poll per run, with no polling, and
an idle lab tab sends nothing."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from courseware.services import course_load
from labs import services
from labs.models import LabAttempt
from tests.browser.conftest import run_console
from tests.core.worker import celery_worker
from tests.labs.conftest import build_lab_course

HIDDEN = "Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});"
VISIBLE = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
  document.dispatchEvent(new Event('visibilitychange'));
}"""

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _signed_in_watching_run_requests(audited_page: Any, alice: Any, tmp_path: Path) -> tuple[Any, list[str]]:
    """The I/O lab's course loaded, alice signed in, and the list every request for a run is recorded in."""
    course_load(build_lab_course(tmp_path / "course", ["io-trap-trace"]))
    audited_page.login_as(alice)
    page = audited_page.page
    run_requests: list[str] = []
    page.on("request", lambda request: run_requests.append(request.url) if "/labs/runs/" in request.url else None)
    return page, run_requests


def test_a_result_appears_through_one_waiting_request_and_an_idle_tab_is_quiet(
    audited_page: Any, alice: Any, tmp_path: Path, settings: Any
) -> None:
    page, run_requests = _signed_in_watching_run_requests(audited_page, alice, tmp_path)

    with celery_worker() as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        audited_page.open_lab(reverse("labs:lab", kwargs={"course": "lab-course", "lab": "io-trap-trace"}))
        run_console(page, f"io write 100KB on {LabAttempt.objects.get(user=alice).params['legacy_vm']}")
        assert "took the emulated path" in page.locator("#run-log article.run").first.inner_text()
        assert len(run_requests) == 1 and run_requests[0].endswith("?wait=25"), run_requests
        audited_page.audit()

        time.sleep(2.5)  # the old page polled every 2 s; a finished run asks for nothing
        assert len(run_requests) == 1, run_requests

        # A tab in the background asks nothing (static/js/site.js); shown again, it asks at once, not at the next tick.
        attempt = LabAttempt.objects.get(user=alice)
        settings.CELERY_TASK_DEFAULT_QUEUE = "nobody-listens"  # the next run stays pending until we execute it
        run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
        page.add_init_script(HIDDEN)
        page.reload()
        page.wait_for_selector(f"#run-{run.pk}[aria-busy='true']")
        audited_page.audit()
        time.sleep(1.5)
        assert len(run_requests) == 1, "no long-poll while hidden"
        services.lab_run_execute(run.pk)
        page.evaluate(VISIBLE)
        page.wait_for_selector(f"#run-{run.pk}[aria-busy='false']", timeout=5_000)
        assert len(run_requests) == 2, run_requests


def test_with_the_inline_wait_the_console_answer_carries_the_result_and_no_long_poll_is_sent(
    audited_page: Any, alice: Any, tmp_path: Path, settings: Any
) -> None:
    settings.LAB_RUN_INLINE_WAIT_MS = 5000  # the production default is 500; a loaded test machine needs more
    page, run_requests = _signed_in_watching_run_requests(audited_page, alice, tmp_path)

    with celery_worker() as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        audited_page.open_lab(reverse("labs:lab", kwargs={"course": "lab-course", "lab": "io-trap-trace"}))
        run_console(page, f"io write 100KB on {LabAttempt.objects.get(user=alice).params['enlightened_vm']}")
        assert "took the synthetic path" in page.locator("#run-log article.run").first.inner_text()
        page.wait_for_selector("#checks-heading")
        assert run_requests == [], "the POST's own answer carried the result"
        button = page.locator(".console-form button[type=submit]")
        assert button.is_enabled() and "running" not in button.inner_text(), "the Run button is back once answered"
        audited_page.audit()
