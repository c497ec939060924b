"""Every URL that takes a slug or an id, as another student (bob) and as an anonymous visitor."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from courseware import services
from courseware.models import Course, Item, Progress, Quiz, QuizAttempt

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def alice_progress(sample_course: Course, alice: User) -> QuizAttempt:
    """alice has completed a lesson, submitted one quiz attempt and has another open."""
    services.lesson_mark_complete(alice, Item.objects.get(slug="intro"))
    done = services.quiz_attempt_start(alice, Quiz.objects.get(item__slug="basics-quiz"))
    services.quiz_attempt_submit(done, {"q.drivers": "partitions"})
    return services.quiz_attempt_start(alice, Quiz.objects.get(item__slug="devices-quiz"))


def _redirects_to_login(response: object) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "/courses/sample/lessons/intro/",
        "/courses/sample/quizzes/basics-quiz/",
        "/courses/sample/instructor/",
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(alice_progress: QuizAttempt, anon_client: Client, url: str) -> None:
    assert _redirects_to_login(anon_client.get(url))


def test_anonymous_posts_record_nothing(alice_progress: QuizAttempt, anon_client: Client) -> None:
    before = (Progress.objects.count(), QuizAttempt.objects.filter(submitted_at__isnull=False).count())
    assert _redirects_to_login(anon_client.post("/courses/sample/lessons/partitions/complete"))
    submit = f"/courses/sample/quizzes/devices-quiz/attempts/{alice_progress.pk}/submit"
    assert _redirects_to_login(anon_client.post(submit, {"q.walk-refs": "24"}))
    assert (Progress.objects.count(), QuizAttempt.objects.filter(submitted_at__isnull=False).count()) == before


@pytest.mark.parametrize(
    "url", ["/courses/", "/courses/sample/", "/courses/sample/glossary/", "/courses/sample/images/partitions.svg"]
)
def test_public_pages_show_anonymous_visitors_no_ones_progress(
    alice_progress: QuizAttempt, anon_client: Client, url: str
) -> None:
    response = anon_client.get(url)
    assert response.status_code == 200
    assert b"Completed" not in response.content and b"alice" not in response.content


def test_bob_sees_his_own_statuses_on_the_outline_not_alices(alice_progress: QuizAttempt, bob_client: Client) -> None:
    page = bob_client.get("/courses/sample/").content.decode()
    assert "Completed" not in page and "In progress" not in page and "0% " in page


def test_bob_on_a_lesson_alice_completed_sees_it_unfinished(alice_progress: QuizAttempt, bob_client: Client) -> None:
    page = bob_client.get("/courses/sample/lessons/intro/").content.decode()
    assert "Mark complete</button>" in page and "This lesson is marked complete." not in page


def test_bob_marking_complete_changes_only_his_progress(
    alice_progress: QuizAttempt, alice: User, bob: User, bob_client: Client
) -> None:
    bob_client.post("/courses/sample/lessons/partitions/complete")
    assert Progress.objects.filter(user=bob, item__slug="partitions", status="completed").exists()
    assert not Progress.objects.filter(user=alice, item__slug="partitions").exists()


def test_bob_opening_a_quiz_gets_his_own_attempt_not_alices(
    alice_progress: QuizAttempt, bob: User, bob_client: Client
) -> None:
    bob_client.post("/courses/sample/quizzes/devices-quiz/start")
    page = bob_client.get("/courses/sample/quizzes/devices-quiz/").content.decode()
    assert f"/attempts/{alice_progress.pk}/submit" not in page
    assert QuizAttempt.objects.filter(user=bob).count() == 1
    basics = bob_client.get("/courses/sample/quizzes/basics-quiz/").content.decode()
    assert "Attempt 1: " not in basics and "<form" in basics  # not alice's result


def test_bob_cannot_submit_alices_attempt(alice_progress: QuizAttempt, bob_client: Client) -> None:
    submit = f"/courses/sample/quizzes/devices-quiz/attempts/{alice_progress.pk}/submit"
    assert bob_client.post(submit, {"q.walk-refs": "24"}).status_code == 404
    alice_progress.refresh_from_db()
    assert alice_progress.submitted_at is None


def test_bob_gets_403_on_the_instructor_page(alice_progress: QuizAttempt, bob_client: Client) -> None:
    assert bob_client.get("/courses/sample/instructor/").status_code == 403


def test_my_progress_shows_only_your_own(alice_progress: QuizAttempt, bob_client: Client) -> None:
    page = bob_client.get("/progress/").content.decode()
    assert 'value="0"' in page and 'value="11"' not in page


@pytest.mark.parametrize(
    "url",
    [
        "/courses/nope/",
        "/courses/nope/lessons/intro/",
        "/courses/sample/lessons/nope/",
        "/courses/sample/lessons/basics-quiz/",  # a quiz slug is not a lesson
        "/courses/sample/quizzes/intro/",
        "/courses/sample/quizzes/nope/",
        "/courses/nope/glossary/",
        "/courses/nope/instructor/",
        "/courses/sample/images/nope.svg",
    ],
)
def test_unknown_slugs_are_404(sample_course: Course, ian_client: Client, url: str) -> None:
    assert ian_client.get(url).status_code == 404


def test_unknown_attempt_ids_are_404(sample_course: Course, alice_client: Client) -> None:
    assert alice_client.post("/courses/sample/quizzes/basics-quiz/attempts/999999/submit", {}).status_code == 404
    assert alice_client.post("/courses/sample/lessons/nope/complete").status_code == 404


def test_archived_items_are_404(sample_course: Course, alice_client: Client) -> None:
    Item.objects.filter(slug__in=["intro", "basics-quiz"]).update(archived=True)
    assert alice_client.get("/courses/sample/lessons/intro/").status_code == 404
    assert alice_client.get("/courses/sample/quizzes/basics-quiz/").status_code == 404
    assert alice_client.post("/courses/sample/lessons/intro/complete").status_code == 404


def test_staff_see_courseware_in_the_admin_and_students_do_not(
    sample_course: Course, stan_client: Client, alice_client: Client
) -> None:
    assert stan_client.get("/admin/courseware/item/").status_code == 200
    assert stan_client.get("/admin/courseware/progress/").status_code == 200
    assert alice_client.get("/admin/courseware/item/").status_code == 403


@pytest.mark.parametrize("url", ["/courses/sample/", "/courses/sample/glossary/", "/courses/sample/images/dot.png"])
def test_public_course_pages_work_for_another_student(
    alice_progress: QuizAttempt, bob_client: Client, url: str
) -> None:
    response = bob_client.get(url)
    assert response.status_code == 200 and b"alice" not in response.content
