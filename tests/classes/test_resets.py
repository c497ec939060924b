"""A reset never deletes: it archives (who, when, which class, why), logs, and stays within the class (issue 13
item 2: an instructor of another class reset a student's quiz everywhere)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from classes import services
from classes.models import Class, ResetLog
from courseware import services as cw_services
from courseware.models import Course, Quiz, QuizAttempt
from labs.models import Lab, LabAttempt
from labs.services import lab_attempt_current
from tests.classes.conftest import make_class

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz(course: Course) -> Quiz:
    return Quiz.objects.get(item__course=course, item__slug="basics-quiz")


@pytest.fixture
def olgas_class(course: Course, olga: User, alice: User) -> Class:
    klass = make_class(olga, course, title="Olga's week")
    services.membership_add(klass, alice, "code")
    return klass


def test_a_quiz_reset_archives_the_attempts_and_logs_who_where_and_why(
    alice_in_class: Class, alice: User, quiz: Quiz, ian_client: Client
) -> None:
    attempt, _ = cw_services.quiz_attempt_submit(cw_services.quiz_attempt_start(alice, quiz), {})
    url = reverse("classes:reset", args=[alice_in_class.pk, alice.pk, "quiz"])
    assert ian_client.post(url, {"item": quiz.item.slug, "reason": "fire alarm"}).status_code == 303
    attempt.refresh_from_db()
    assert attempt.archived_at is not None
    assert attempt.archived_note.startswith(f"reset by ian in class {alice_in_class.pk}")
    log = ResetLog.objects.get()
    assert (log.klass, log.instructor.username, log.kind) == (alice_in_class, "ian", "quiz")
    page = ian_client.get(reverse("classes:student", args=[alice_in_class.pk, alice.pk])).content.decode()
    assert "archived" in page and "fire alarm" in page


def test_an_instructor_of_another_class_cannot_reset_the_shared_students_quiz(
    alice_in_class: Class, olgas_class: Class, alice: User, quiz: Quiz, olga_client: Client, stan_client: Client
) -> None:
    cw_services.quiz_attempt_submit(cw_services.quiz_attempt_start(alice, quiz), {})
    url = reverse("classes:reset", args=[olgas_class.pk, alice.pk, "quiz"])
    response = olga_client.post(url, {"item": quiz.item.slug, "reason": "wipe"}, follow=True)
    assert "also takes this course in a class you do not teach" in response.content.decode()
    assert QuizAttempt.objects.get(user=alice).archived_at is None
    assert not ResetLog.objects.exists()
    staff = reverse("classes:reset", args=[alice_in_class.pk, alice.pk, "quiz"])
    assert stan_client.post(staff, {"item": quiz.item.slug, "reason": "asked by both"}).status_code == 303
    assert QuizAttempt.objects.get(user=alice).archived_at is not None


def test_an_instructor_of_another_class_cannot_reset_the_shared_students_lab(
    alice_in_class: Class, olgas_class: Class, alice: User, course: Course, olga_client: Client
) -> None:
    lab = Lab.objects.get(item__course=course, item__slug="io-trap-trace")
    attempt = lab_attempt_current(alice, lab)
    url = reverse("classes:reset", args=[olgas_class.pk, alice.pk, "lab"])
    olga_client.post(url, {"item": lab.item.slug, "reason": "wipe"})
    attempt.refresh_from_db()
    assert attempt.status == LabAttempt.Status.ACTIVE
    assert not ResetLog.objects.exists()


def test_an_instructor_teaching_both_classes_may_reset(
    alice_in_class: Class, olgas_class: Class, alice: User, ian: User, quiz: Quiz, olga: User
) -> None:
    olgas_class.instructors.add(ian)
    cw_services.quiz_attempt_submit(cw_services.quiz_attempt_start(alice, quiz), {})
    services.quiz_reset_for_student(olgas_class, alice, quiz, ian, "both mine")
    assert QuizAttempt.objects.get(user=alice).archived_at is not None
