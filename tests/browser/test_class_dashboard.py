"""A class end to end in Chromium, in two browser contexts: an instructor creates a class, a student joins with the
code and fails a lab check three times (a real Celery worker evaluates the runs), and the instructor's dashboard
shows the flag and the failure heatmap without a reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from classes.models import Class
from courseware.services import course_load
from labs.models import LabRun
from tests.browser.conftest import AuditedPage, wait_for_js
from tests.classes.conftest import build_class_course
from tests.conftest import PASSWORD
from tests.core.worker import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _sign_in(audited: AuditedPage, username: str) -> None:
    audited.goto("/accounts/login/")
    audited.page.fill("#id_username", username)
    audited.page.fill("#id_password", PASSWORD)
    audited.click_and_wait("main button[type=submit]")


def _check_my_work(page: Any) -> None:
    runs_before = page.locator("#run-log article.run").count()
    page.click("button:has-text('Check my work')")
    wait_for_js(page, f"document.querySelectorAll('#run-log article.run').length > {runs_before}")
    page.wait_for_selector("#run-log > li:first-child article.run[aria-busy='false']", timeout=60_000)


def test_the_instructor_sees_a_struggling_student_live(
    audited_page: AuditedPage, browser: Any, live_server: Any, ian: Any, alice: Any, tmp_path: Path, settings: Any
) -> None:
    course = course_load(build_class_course(tmp_path / "course")).course
    instructor = audited_page
    page = instructor.page
    _sign_in(instructor, "ian")
    instructor.goto(reverse("classes:new"))
    page.select_option("#id_course", str(course.pk))
    page.fill("#id_title", "Hyper-V in the room")
    instructor.click_and_wait("main button[type=submit]")
    code = page.inner_text("#join-code").strip()
    klass = Class.objects.get(title="Hyper-V in the room")
    assert code == klass.join_code

    student_context = browser.new_context()
    student = AuditedPage(student_context.new_page(), live_server.url)
    student.page.set_default_timeout(15_000)
    try:
        _sign_in(student, "alice")
        student.goto(reverse("classes:join"))
        student.page.fill("#id_code", code.lower())
        student.click_and_wait("main button[type=submit]")
        assert "You joined Hyper-V in the room" in student.page.inner_text("main")

        instructor.goto(reverse("classes:detail", args=[klass.pk]))
        page.evaluate("window.__notReloaded = true")
        assert "1 student;" in page.inner_text("#board")
        page.click("text=Failure heatmap: ")
        page.wait_for_selector("#heat")
        assert "0 of 1 student checked their work" in page.inner_text("#heat")
        instructor.audit()

        with celery_worker() as (_, queue):
            settings.CELERY_TASK_DEFAULT_QUEUE = queue
            student.open_lab(reverse("labs:lab", kwargs={"course": course.slug, "lab": "io-trap-trace"}))
            for _ in range(3):
                _check_my_work(student.page)
            student.audit()
        assert LabRun.objects.filter(kind="check", status="failed").count() == 3

        # The dashboard and the heatmap poll every 5 s: the flag and the failures appear without a reload.
        wait_for_js(page,
            "document.querySelector('#board').innerText.includes('3 failed checks in a row')", timeout=20_000
        )
        wait_for_js(page,
            "document.querySelector('#heat').innerText.includes('1 of 1 student checked their work')", timeout=20_000
        )
        assert page.evaluate("window.__notReloaded") is True
        assert "Run: io write 100KB on" in page.inner_text("#heat")
        assert "1 need" in page.inner_text("#board")
        instructor.audit()
    finally:
        unaudited = [url for url in student.loaded if url not in student.audited]
        student_context.close()
    assert not unaudited, f"pages loaded but never audited with axe-core: {unaudited}"


def test_every_class_page_passes_the_accessibility_audit(
    audited_page: AuditedPage, browser: Any, live_server: Any, ian: Any, alice: Any, tmp_path: Path
) -> None:
    from classes import gradebook, services
    from courseware import services as cw_services
    from courseware.models import Quiz
    from labs import services as lab_services
    from labs.models import Lab
    from tests.classes.conftest import make_class

    course = course_load(build_class_course(tmp_path / "course")).course
    klass = make_class(ian, course, paced=True)
    services.membership_add(klass, alice, "code")
    services.hand_raise(klass, alice, "Which VM is emulated?")
    quiz = Quiz.objects.get(item__course=course, item__slug="basics-quiz")
    cw_services.quiz_attempt_submit(cw_services.quiz_attempt_start(alice, quiz), {})
    attempt = lab_services.lab_attempt_current(alice, Lab.objects.get(item__course=course))
    gradebook.export_request(klass, ian)
    services.invitations_create(klass, ["ghost@example.test"], ian)  # the manage page's pending invitations
    services.invitations_create(make_class(ian, course, title="Second week"), ["alice"], ian)  # alice's to answer
    _sign_in(audited_page, "ian")
    for name, args in (
        ("classes:list", []),
        ("classes:detail", [klass.pk]),
        ("classes:heatmap", [klass.pk, "io-trap-trace"]),
        ("classes:gradebook", [klass.pk]),
        ("classes:student", [klass.pk, alice.pk]),
        ("classes:pacing", [klass.pk]),
        ("classes:manage", [klass.pk]),
        ("classes:notes", [klass.pk]),
        ("classes:replay", [attempt.pk]),
    ):
        audited_page.goto(reverse(name, args=args))
    student_context = browser.new_context()
    student = AuditedPage(student_context.new_page(), live_server.url)
    try:
        _sign_in(student, "alice")
        for url in (
            reverse("classes:list"),
            reverse("classes:detail", args=[klass.pk]),
            reverse("classes:gradebook", args=[klass.pk]),
            reverse("classes:join"),
            reverse("courseware:outline", args=[course.slug]),
        ):
            student.goto(url)
            if url == reverse("classes:list"):
                assert "invites you to join" in student.page.inner_text("main")
        assert "Opens when your instructor starts it" in student.page.inner_text("main")
        student.allow_status(403)  # the closed module's lesson is refused on purpose
        student.goto(reverse("courseware:lesson", args=[course.slug, "intro"]))
        assert "opens when your instructor starts it" in student.page.inner_text("main")
    finally:
        unaudited = [url for url in student.loaded if url not in student.audited]
        student_context.close()
    assert not unaudited, f"pages loaded but never audited with axe-core: {unaudited}"
