"""Catalog, outline, lesson pages with previous/next and a table of contents, mark complete, glossary, instructor
pages, course images and the home page."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from courseware import services
from courseware.models import Course, Item, Progress

pytestmark = pytest.mark.django_db

INTRO = "/courses/sample/lessons/intro/"


def test_the_catalog_is_public_and_lists_the_courses(sample_course: Course, anon_client: Client) -> None:
    page = anon_client.get("/courses/").content.decode()
    assert 'href="/courses/sample/"' in page and "Sample course for the courseware tests" in page
    assert "<strong>every feature</strong>" in page


def test_the_outline_lists_modules_with_lessons_quizzes_and_labs_and_each_status(
    sample_course: Course, alice: User, alice_client: Client
) -> None:
    services.lesson_mark_complete(alice, Item.objects.get(slug="intro"))
    page = alice_client.get("/courses/sample/").content.decode()
    for title in ("Basics", "Devices", "Review", "Partitions", "Devices check", "Trace an I/O trap"):
        assert title in page
    order = [page.index(f'id="item-{slug}"') for slug in ("intro", "partitions", "basics-quiz", "io-trap-trace")]
    assert order == sorted(order)
    assert "✓ Completed" in page and "○ Not started" in page
    assert "Continue where you left off: Partitions" in page
    assert 'href="/courses/sample/glossary/"' in page
    assert "/instructor/" not in page  # students get no link to instructor pages


def test_a_new_learner_is_offered_the_first_item(sample_course: Course, alice_client: Client) -> None:
    assert "Start the course: Introduction to the hypervisor" in alice_client.get("/courses/sample/").content.decode()


def test_the_lesson_page_shows_body_objectives_toc_and_previous_next(
    sample_course: Course, alice_client: Client
) -> None:
    page = alice_client.get("/courses/sample/lessons/partitions/").content.decode()
    assert "<h1>Partitions</h1>" in page and "Tell the root partition from a child partition." in page
    assert '<a href="#child-partitions">Child partitions</a>' in page
    assert '<a rel="prev" href="/courses/sample/lessons/intro/">' in page
    assert '<a rel="next" href="/courses/sample/quizzes/basics-quiz/">' in page
    assert 'hx-post="/courses/sample/lessons/partitions/complete"' in page
    assert 'action="/courses/sample/lessons/partitions/complete"' in page  # works without JavaScript


def test_opening_a_lesson_writes_nothing(sample_course: Course, alice: User, alice_client: Client) -> None:
    assert alice_client.get(INTRO).status_code == 200
    assert not Progress.objects.filter(user=alice).exists(), "a GET never creates a progress row"


def _teach(instructor: User, course: Course) -> None:
    """Give `instructor` a class of `course`: instructor notes are for the instructors of its classes."""
    from datetime import date, timedelta

    from classes.services import class_create

    class_create(instructor, course, "Hyper-V week", date.today(), date.today() + timedelta(days=4))


def test_instructor_notes_appear_only_for_the_instructors_of_the_courses_classes(
    sample_course: Course,
    alice_client: Client,
    ian: User,
    ian_client: Client,
    olga_client: Client,
    stan_client: Client,
) -> None:
    _teach(ian, sample_course)
    assert "NOTES-SECRET-INTRO" not in alice_client.get(INTRO).content.decode()
    assert "NOTES-SECRET-INTRO" in ian_client.get(INTRO).content.decode()
    assert "NOTES-SECRET-INTRO" in stan_client.get(INTRO).content.decode()
    assert "NOTES-SECRET-INTRO" not in olga_client.get(INTRO).content.decode(), "an instructor with no class of it"


def test_mark_complete_by_htmx_returns_the_fragment(sample_course: Course, alice: User, alice_client: Client) -> None:
    response = alice_client.post(INTRO + "complete", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page and "✓ Completed." in page
    assert Progress.objects.get(user=alice, item__slug="intro").is_completed


def test_mark_complete_by_plain_form_redirects_back_to_the_lesson(
    sample_course: Course, alice: User, alice_client: Client
) -> None:
    response = alice_client.post(INTRO + "complete")
    assert response.status_code == 303 and response["Location"] == INTRO + "#complete"
    page = alice_client.get(INTRO).content.decode()
    assert "This lesson is marked complete." in page and "Mark complete</button>" not in page


def test_mark_complete_needs_post(sample_course: Course, alice_client: Client) -> None:
    assert alice_client.get(INTRO + "complete").status_code == 405


def test_the_glossary_has_an_anchor_per_term(sample_course: Course, alice_client: Client) -> None:
    page = alice_client.get("/courses/sample/glossary/").content.decode()
    assert '<dt id="term-vmbus">VMBus</dt>' in page and '<dt id="term-root-partition">' in page
    assert '<a href="/courses/sample/glossary/#term-vmbus"' in page  # a definition links to another term


def test_the_instructor_page_has_the_overview_and_every_lessons_notes_in_order(
    sample_course: Course, ian: User, ian_client: Client, olga_client: Client
) -> None:
    _teach(ian, sample_course)
    refused = olga_client.get("/courses/sample/instructor/")
    assert refused.status_code == 403 and "create a class for it" in refused.content.decode()
    page = ian_client.get("/courses/sample/instructor/").content.decode()
    assert "OVERVIEW-SECRET" in page
    assert page.index("NOTES-SECRET-INTRO") < page.index("NOTES-SECRET-DEVICES")
    assert "No notes." in page  # lessons without notes are still listed, for the timing
    assert "cw-print-section" in page


def test_students_get_403_on_instructor_pages(sample_course: Course, alice_client: Client) -> None:
    response = alice_client.get("/courses/sample/instructor/")
    assert response.status_code == 403 and "OVERVIEW-SECRET" not in response.content.decode()


def test_an_svg_is_served_with_a_strict_content_security_policy(sample_course: Course, anon_client: Client) -> None:
    response = anon_client.get("/courses/sample/images/partitions.svg?v=1.0")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"<svg")
    cached = anon_client.get("/courses/sample/images/partitions.svg", headers={"If-None-Match": response["ETag"]})
    assert cached.status_code == 304


def test_a_png_is_served_with_its_content_type(sample_course: Course, anon_client: Client) -> None:
    response = anon_client.get("/courses/sample/images/dot.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "path",
    [
        "../course.yaml",
        "..%2Fcourse.yaml",
        "%2e%2e/%2e%2e/config/settings.py",
        "missing.svg",
        "PARTITIONS.SVG",
        "/etc/passwd",
        "partitions.svg/",
    ],
)
def test_course_images_never_leave_the_stored_set(sample_course: Course, anon_client: Client, path: str) -> None:
    assert anon_client.get(f"/courses/sample/images/{path}").status_code == 404


def test_images_of_an_unknown_course_are_404(sample_course: Course, anon_client: Client) -> None:
    assert anon_client.get("/courses/nope/images/partitions.svg").status_code == 404


def test_home_lists_the_courses_with_progress_when_signed_in(
    sample_course: Course, alice: User, alice_client: Client, anon_client: Client
) -> None:
    services.lesson_mark_complete(alice, Item.objects.get(slug="intro"))
    page = alice_client.get("/").content.decode()
    assert "Your courses" in page and 'href="/courses/sample/"' in page and "11% done (1 of 9)" in page
    assert "Your courses" not in anon_client.get("/").content.decode()
