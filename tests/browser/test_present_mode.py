"""Present mode in Chromium: keyboard navigation of the slides, the presenter view in a second window kept in step
both ways over a BroadcastChannel, the timer, Esc back to the lesson; axe audits every page. Screenshots at 1280 and
390 px are saved under var/screenshots/present/ for a reviewer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from classes.models import Class
from courseware.services import course_load
from tests.browser.conftest import AuditedPage
from tests.browser.test_class_dashboard import _sign_in
from tests.classes.conftest import build_class_course, make_class
from tests.delivery.conftest import add_slide_markup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.VAR_DIR) / "screenshots" / "present"


@pytest.fixture
def klass(ian: User, tmp_path: Path) -> Class:
    """ian's class for the sample course whose "partitions" lesson has slide breaks and presenter notes."""
    return make_class(ian, course_load(add_slide_markup(build_class_course(tmp_path / "course"))).course)


def _counter(page: Any) -> str:
    return page.inner_text("[data-deck-counter]")


def _wait_counter(page: Any, text: str) -> None:
    page.wait_for_function(f"document.querySelector('[data-deck-counter]').textContent === {text!r}")


def test_slides_and_presenter_view_stay_in_step(audited_page: AuditedPage, klass: Class, live_server: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    course = klass.course
    slides = audited_page.page
    slides.set_viewport_size({"width": 1280, "height": 800})
    _sign_in(audited_page, "ian")
    audited_page.goto(reverse("courseware:lesson", args=[course.slug, "partitions"]))
    audited_page.click_and_wait("text=Present this lesson")

    assert _counter(slides) == "Slide 1 of 4"
    assert slides.locator("[data-slide]:visible").count() == 1
    assert slides.is_visible("#slide-1 h1:has-text('Partitions')")
    slides.screenshot(path=str(SHOTS / "slides-1280-title.png"))
    slides.keyboard.press("ArrowRight")
    assert _counter(slides) == "Slide 2 of 4" and slides.is_visible("#slide-2 h2:has-text('Child partitions')")
    slides.keyboard.press(" ")
    assert _counter(slides) == "Slide 3 of 4"
    slides.keyboard.press("End")
    assert _counter(slides) == "Slide 4 of 4" and slides.url.endswith("#slide-4")
    slides.keyboard.press("ArrowRight")
    assert _counter(slides) == "Slide 4 of 4", "no slide after the last"
    slides.keyboard.press("Home")
    assert _counter(slides) == "Slide 1 of 4"
    audited_page.audit()

    with slides.expect_popup() as popup:
        slides.click("[data-deck-presenter]")
    presenter_page = popup.value
    presenter_page.set_viewport_size({"width": 1280, "height": 800})
    presenter = AuditedPage(presenter_page, live_server.url)
    presenter.audit()
    assert _counter(presenter_page) == "Slide 1 of 4"
    assert "Not started" in presenter_page.inner_text("[data-timer-state]")

    # The presenter moves the room's slides...
    presenter_page.keyboard.press("ArrowRight")
    presenter_page.keyboard.press("ArrowRight")
    _wait_counter(slides, "Slide 3 of 4")
    assert slides.is_visible("#slide-3 h2:has-text('A section with two slides')")
    notes = presenter_page.locator("[data-slide-notes]:visible")
    assert notes.count() == 1 and "SLIDE-NOTES-SECRET" in notes.inner_text()
    assert presenter_page.inner_text("[data-next-title]:visible").startswith("A section with two slides (continued)")
    assert "left." in presenter_page.inner_text("[data-timer-state]"), "the timer starts with the first slide change"
    presenter_page.screenshot(path=str(SHOTS / "presenter-1280.png"), full_page=True)
    slides.screenshot(path=str(SHOTS / "slides-1280-section.png"))

    # ...and the room's slides move the presenter.
    slides.keyboard.press("ArrowRight")
    _wait_counter(presenter_page, "Slide 4 of 4")
    assert presenter_page.inner_text("[data-next-title]:visible") == "End of the lesson"
    assert "INLINE-NOTES-SECRET" in presenter_page.locator("[data-slide-notes]:visible").inner_text()
    presenter_page.click('[data-timer-action="toggle"]')
    assert "Paused" in presenter_page.inner_text("[data-timer-state]")
    presenter.audit()

    for page, name in ((slides, "slides"), (presenter_page, "presenter")):
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=name == "presenter")
    audited_page.audit()
    presenter.audit()

    with slides.expect_navigation():
        slides.keyboard.press("Escape")
    audited_page.audit()
    assert slides.url.endswith(reverse("courseware:lesson", args=[course.slug, "partitions"]))


def test_a_trace_is_presented_and_stepped_with_the_keyboard(audited_page: AuditedPage, klass: Class) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = audited_page.page
    page.set_viewport_size({"width": 1280, "height": 800})
    _sign_in(audited_page, "ian")
    audited_page.goto(reverse("delivery:present_trace", args=[klass.course.slug, "synthetic"]))
    assert page.inner_text("[data-tv-detail-n]") == "1"
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    assert page.inner_text("[data-tv-detail-n]") == "3"
    page.keyboard.press("End")
    last = page.inner_text("[data-tv-detail-n]")
    assert int(last) > 3
    page.keyboard.press("Home")
    assert page.inner_text("[data-tv-detail-n]") == "1"
    page.screenshot(path=str(SHOTS / "trace-1280.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "trace-390.png"))
    audited_page.audit()
