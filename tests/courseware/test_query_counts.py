"""Query counts of the outline, lesson, quiz submit and progress pages: the same with 10 and 100 lessons."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import User
from courseware import services
from courseware.models import Course, Item, Quiz

pytestmark = pytest.mark.django_db

SIZES = [10, 100]


@pytest.fixture(params=SIZES, ids=lambda n: f"{n}-lessons")
def course(request: pytest.FixtureRequest, course_of: Callable[[int], Course], alice: User) -> Course:
    course = course_of(request.param)
    # Some progress, so that statuses and "continue" are computed from real rows.
    for item in Item.objects.filter(course=course, kind="lesson")[: request.param // 2]:
        services.lesson_mark_complete(alice, item)
    return course


def test_outline(course: Course, alice_client: Client, django_assert_num_queries: Callable) -> None:
    # user, course, items with modules, progress (the session comes from the cache: cached_db)
    with django_assert_num_queries(4):
        assert alice_client.get(f"/courses/{course.slug}/").status_code == 200


def test_lesson_page_first_visit(course: Course, alice_client: Client, django_assert_num_queries: Callable) -> None:
    url = f"/courses/{course.slug}/lessons/lesson-{len(Item.objects.filter(course=course, kind='lesson'))}/"
    # user, item with lesson and course (previous/next are stored at load), the learner's progress: a visit only
    # reads (a GET never creates a progress row)
    with django_assert_num_queries(3):
        assert alice_client.get(url).status_code == 200
    # A re-visit: none. The user (accounts.caching), the lesson's row and the learner's whole page (courseware.caching)
    # come from the cache, each keyed by versions that the writes bump (tests/courseware/test_lesson_page_cache.py).
    with django_assert_num_queries(0):
        assert alice_client.get(url).status_code == 200


def test_quiz_submit(course: Course, alice: User, alice_client: Client, django_assert_num_queries: Callable) -> None:
    attempt = services.quiz_attempt_start(alice, Quiz.objects.get(item__course=course))
    url = f"/courses/{course.slug}/quizzes/quiz-one/attempts/{attempt.pk}/submit"
    # user, attempt with quiz/item/course, savepoint, conditional update, progress get_or_create
    # (select, savepoint, insert, release), progress update, the LMS links this learner's score goes to (lti's
    # quiz_submitted receiver: none here), release
    with django_assert_num_queries(11):
        response = alice_client.post(url, {"q.q1": "a", "q.q2": "4"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "100%" in response.content.decode()


def test_my_progress(course: Course, alice_client: Client, django_assert_num_queries: Callable) -> None:
    # user, courses, items with modules, progress
    with django_assert_num_queries(4):
        assert alice_client.get("/progress/").status_code == 200


def test_catalog(course: Course, alice_client: Client, django_assert_num_queries: Callable) -> None:
    with django_assert_num_queries(4):
        assert alice_client.get("/courses/").status_code == 200
