"""Every page type, as a learner, a trainer and a visitor (issue 11 "Clean pages", issue 13 item 8):

- works under the Content-Security-Policy with no console error and no failed request (the audited_page fixture),
- has 0 serious or critical axe-core findings, also in interactive states (trace playing, compare, open heatmap),
- is valid HTML (the Nu HTML Checker, vnu-jar from npm: 0 errors),
- does not scroll sideways on a 390 px phone, and is photographed at 1280 and 390 px into var/screenshots/ for a
  reviewer (the pictures are the test's artefacts).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from classes import services as class_services
from courseware import services as course_services
from courseware.models import Item, Quiz
from courseware.services import course_load
from labs import services as lab_services
from labs.models import Lab
from tests.browser.conftest import SCREENSHOTS, AuditedPage, validate_html, wait_for_js
from tests.classes.conftest import build_class_course, make_class

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Tour:
    """Visits pages, keeps their server HTML for the checker and photographs them at both widths."""

    def __init__(self, audited: AuditedPage, folder: Path) -> None:
        self.audited = audited
        self.folder = folder
        self.files: list[Path] = []
        self.wide: list[str] = []

    def visit(self, name: str, path: str) -> Any:
        page = self.audited.page
        page.set_viewport_size({"width": 1280, "height": 900})
        response = page.goto(self.audited.base_url + path)
        assert response is not None and response.status < 400, (name, response and response.status)
        self.audited.audit()
        html = self.folder / f"{name}.html"
        html.write_text(response.text())
        self.files.append(html)
        self.shoot(name)
        return page

    def shoot(self, name: str) -> None:
        page = self.audited.page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(50)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-390.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 392:
            self.wide.append(f"{name}: {width} px wide at 390 px")
        page.set_viewport_size({"width": 1280, "height": 900})


def _learner_work(alice: Any, lab: Lab) -> None:
    attempt = lab_services.lab_attempt_current(alice, lab)
    for key in ("legacy_vm", "enlightened_vm"):
        vm = attempt.params[key]
        action = {"op": "io", "vm": vm, "op_kind": "write", "bytes": 102400}
        run = lab_services.lab_action_submit(attempt, f"io write 100KB on {vm}", action, uuid.uuid4()).run
        lab_services.lab_run_execute(run.pk)
    show = lab_services.lab_action_submit(attempt, "show vms", {"op": "show", "what": "vms"}, uuid.uuid4()).run
    lab_services.lab_run_execute(show.pk)
    lab_services.lab_run_execute(lab_services.lab_check_submit(attempt, uuid.uuid4()).run.pk)


def test_every_page_type_is_clean_valid_and_readable_at_both_widths(
    audited_page: AuditedPage, vnu_jar: Path, alice: Any, ian: Any, tmp_path: Path
) -> None:
    course = course_load(build_class_course(tmp_path / "course")).course
    klass = make_class(ian, course)
    class_services.membership_add(klass, alice, "code")
    lab = Lab.objects.get(item__course=course, item__slug="io-trap-trace")
    slug = course.slug
    pages = tmp_path / "pages"
    pages.mkdir()
    tour = Tour(audited_page, pages)

    # A visitor.
    tour.visit("login", reverse("login"))
    tour.visit("signup", reverse("signup"))
    tour.visit("password-reset", reverse("password_reset"))

    # A learner.
    audited_page.login_as(alice)
    tour.visit("lab-start", reverse("labs:lab", args=[slug, "io-trap-trace"]))
    _learner_work(alice, lab)
    basics = Quiz.objects.get(item__course=course, item__slug="basics-quiz")
    course_services.quiz_attempt_submit(course_services.quiz_attempt_start(alice, basics), {})
    course_services.quiz_attempt_start(alice, Quiz.objects.get(item__course=course, item__slug="devices-quiz"))
    course_services.lesson_mark_complete(alice, Item.objects.get(course=course, slug="intro"))
    tour.visit("home", reverse("home"))
    tour.visit("catalog", reverse("courseware:catalog"))
    page = tour.visit("outline", reverse("courseware:outline", args=[slug]))
    # Lesson rows like quiz and lab rows: kind, title and status on one line (not the lesson page's grid).
    offsets = page.evaluate(
        """[...document.querySelectorAll('.cw-item-lesson')].map(row => {
             const a = row.querySelector('a').getBoundingClientRect();
             const b = row.querySelector('.badge').getBoundingClientRect();
             return Math.abs(a.top - b.top) < 12 && b.left > a.right; })"""
    )
    assert offsets and all(offsets), "outline lesson rows: status beside the title"
    tour.visit("lesson", reverse("courseware:lesson", args=[slug, "intro"]))
    tour.visit("quiz-start", reverse("courseware:quiz", args=[slug, "final-exam"]))
    tour.visit("quiz-form", reverse("courseware:quiz", args=[slug, "devices-quiz"]))
    tour.visit("quiz-result", reverse("courseware:quiz", args=[slug, "basics-quiz"]))
    tour.visit("glossary", reverse("courseware:glossary", args=[slug]))
    tour.visit("my-progress", reverse("courseware:my_progress"))
    page = tour.visit("lab", reverse("labs:lab", args=[slug, "io-trap-trace"]))
    assert "best " in page.inner_text("#lab-score")
    # Wide screen: manual and console side by side from the top. Phone: the console comes before the manual.
    tops = page.evaluate(
        "[document.querySelector('#manual-heading'), document.querySelector('#console-heading')]"
        ".map(h => Math.round(h.getBoundingClientRect().top))"
    )
    assert abs(tops[0] - tops[1]) < 8, tops
    page.set_viewport_size({"width": 390, "height": 844})
    order = page.evaluate(
        "[document.querySelector('#console-input'), document.querySelector('#manual-heading')]"
        ".map(e => e.getBoundingClientRect().top + window.scrollY)"
    )
    assert order[0] < order[1] and order[0] < 844, f"on a phone the console is first and on screen: {order}"
    page.set_viewport_size({"width": 1280, "height": 900})
    attempt = lab.attempts.get(user=alice)
    run = attempt.runs.filter(kind="action", status="passed").order_by("pk").first()
    assert run is not None
    tour.visit("run", reverse("labs:run", args=[run.pk]))
    page = tour.visit("trace", reverse("labs:trace", args=[run.pk]))
    page.click("#tv-a [data-tv-action='play']")  # interactive state: the trace playing
    wait_for_js(page, "Number(document.querySelector('#tv-a [data-tv-detail-n]').textContent) > 1")
    audited_page.audit()
    tour.shoot("trace-playing")
    tour.visit("compare", reverse("labs:compare", args=[attempt.pk]))
    tour.visit("classes-student", reverse("classes:list"))
    tour.visit("password-change", reverse("password_change"))

    # A trainer.
    audited_page.page.context.clear_cookies()
    audited_page.login_as(ian)
    page = tour.visit("dashboard", reverse("classes:detail", args=[klass.pk]))
    # The board scrolls in its own box: the page itself is never wider than the window; the student column sticks.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("getComputedStyle(document.querySelector('.cl-board th[scope=row]')).position") == "sticky"
    page.click(f"a[href='{reverse('classes:heatmap', args=[klass.pk, 'io-trap-trace'])}'] >> nth=0")
    page.wait_for_selector("#heatmap-panel #heat")  # interactive state: the heatmap open in the dashboard
    audited_page.audit()
    tour.shoot("dashboard-heatmap")
    tour.visit("heatmap", reverse("classes:heatmap", args=[klass.pk, "io-trap-trace"]))
    tour.visit("gradebook", reverse("classes:gradebook", args=[klass.pk]))
    tour.visit("drill-down", reverse("classes:student", args=[klass.pk, alice.pk]))
    tour.visit("replay", reverse("classes:replay", args=[attempt.pk]))
    tour.visit("class-notes", reverse("classes:notes", args=[klass.pk]))
    tour.visit("course-instructor", reverse("courseware:instructor", args=[slug]))
    tour.visit("classes", reverse("classes:list"))
    tour.visit("class-new", reverse("classes:new"))

    errors = validate_html(vnu_jar, tour.files)
    assert not errors, "the Nu HTML Checker found errors:\n" + "\n".join(errors)
    assert not tour.wide, "pages scroll sideways on a phone:\n" + "\n".join(tour.wide)
