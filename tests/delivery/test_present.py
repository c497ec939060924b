"""Present mode: who may open it (every persona), what the slides and the presenter view show, pinned queries."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from classes.models import Class
from courseware.models import Course

PERSONAS = ("anon", "alice", "bob", "ian", "olga", "stan")
# Only trainers of the course present: ian (teaches its class) and stan (staff); signed-in others get 403.
EXPECTED = {"anon": 302, "alice": 403, "bob": 403, "ian": 200, "olga": 403, "stan": 200}


def _urls(course: Course) -> list[str]:
    return [
        reverse("delivery:present", args=[course.slug, "partitions"]),
        reverse("delivery:presenter", args=[course.slug, "partitions"]),
        reverse("delivery:present_trace", args=[course.slug, "emulated"]),
        reverse("delivery:present_trace", args=[course.slug, "synthetic"]),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_course_trainers_may_present(
    request: pytest.FixtureRequest, persona: str, course: Course, alice_in_class: Class
) -> None:
    client: Client = request.getfixturevalue(f"{persona}_client")
    for url in _urls(course):
        response = client.get(url)
        assert response.status_code == EXPECTED[persona], (persona, url)
        if persona == "anon":
            assert response["Location"].startswith(reverse("login"))


def test_unknown_lesson_course_or_trace_is_404(ian_client: Client, course: Course, klass: Class) -> None:
    assert ian_client.get(reverse("delivery:present", args=[course.slug, "no-such"])).status_code == 404
    assert ian_client.get(reverse("delivery:present", args=["no-such", "partitions"])).status_code == 404
    # A quiz is not a lesson: nothing to present.
    assert ian_client.get(reverse("delivery:present", args=[course.slug, "basics-quiz"])).status_code == 404
    assert ian_client.get(reverse("delivery:present_trace", args=[course.slug, "nvme"])).status_code == 404


def test_slides_page_has_one_section_per_slide_and_no_notes(ian_client: Client, course: Course, klass: Class) -> None:
    html = ian_client.get(reverse("delivery:present", args=[course.slug, "partitions"])).content.decode()
    assert html.count("data-slide ") == 4  # title, "Child partitions", the added section and its continuation
    assert 'A section with two slides <span class="slide-continued">(continued)</span>' in html
    assert "SLIDE-NOTES-SECRET" not in html and "INLINE-NOTES-SECRET" not in html
    assert "<script>" not in html and " onclick=" not in html  # CSP script-src 'self': no inline script
    assert 'src="/static/js/present.js"' in html


def test_presenter_view_has_notes_timer_and_next(ian_client: Client, course: Course, klass: Class) -> None:
    html = ian_client.get(reverse("delivery:presenter", args=[course.slug, "partitions"])).content.decode()
    assert "SLIDE-NOTES-SECRET" in html and "INLINE-NOTES-SECRET" in html
    assert 'data-minutes="5"' in html and "of 5:00 planned" in html
    assert "End of the lesson" in html
    assert "pv-lesson-notes" not in html, "this lesson has no instructor_notes"


def test_presenter_view_opens_the_lesson_notes_when_no_slide_has_notes(
    ian_client: Client, course: Course, klass: Class
) -> None:
    html = ian_client.get(reverse("delivery:presenter", args=[course.slug, "intro"])).content.decode()
    assert '<details class="pv-lesson-notes" open>' in html and "NOTES-SECRET-INTRO" in html


def test_lesson_page_offers_present_to_trainers_only(
    ian_client: Client, alice_client: Client, course: Course, alice_in_class: Class
) -> None:
    url = reverse("courseware:lesson", args=[course.slug, "partitions"])
    present = reverse("delivery:present", args=[course.slug, "partitions"])
    assert present in ian_client.get(url).content.decode()
    assert present not in alice_client.get(url).content.decode()


def test_trace_presentation_shows_the_viewer(stan_client: Client, course: Course) -> None:
    html = stan_client.get(reverse("delivery:present_trace", args=[course.slug, "synthetic"])).content.decode()
    assert "data-trace-viewer" in html and "VMBus" in html
    assert "data-present-trace" in html


@pytest.mark.parametrize("name", ["present", "presenter"])
def test_present_pages_query_count_is_pinned(
    ian_client: Client, course: Course, klass: Class, django_assert_num_queries: object, name: str
) -> None:
    url = reverse(f"delivery:{name}", args=[course.slug, "partitions"])
    ian_client.get(url)  # warm the session
    # the lesson with its course, teaches_course (the session, cached_db, and the user come from the cache)
    with django_assert_num_queries(2):  # type: ignore[operator]
        assert ian_client.get(url).status_code == 200


def test_trace_presentation_query_count_is_pinned(
    ian_client: Client, course: Course, klass: Class, django_assert_num_queries: object
) -> None:
    url = reverse("delivery:present_trace", args=[course.slug, "emulated"])
    ian_client.get(url)
    # the course, teaches_course (the session and the user come from the cache; the trace is computed once per
    # process)
    with django_assert_num_queries(2):  # type: ignore[operator]
        assert ian_client.get(url).status_code == 200
