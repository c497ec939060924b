"""Progress per learner and item: lessons, quizzes and labs; module and course percentages; the My progress page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from courseware import services
from courseware.models import Course, Item, Progress

pytestmark = pytest.mark.django_db


def _item(slug: str) -> Item:
    return Item.objects.get(slug=slug)


def test_marking_a_lesson_complete_is_idempotent_and_keeps_the_first_time(sample_course: Course, alice: User) -> None:
    first = services.lesson_mark_complete(alice, _item("intro"))
    again = services.lesson_mark_complete(alice, _item("intro"))
    assert first.pk == again.pk and again.completed_at == first.completed_at and again.status == "completed"
    assert Progress.objects.count() == 1


def test_a_visit_does_not_undo_a_completion(sample_course: Course, alice: User) -> None:
    services.lesson_mark_complete(alice, _item("intro"))
    assert services.lesson_visit(alice, _item("intro")).status == "completed"


def test_lab_completion_records_the_best_score_and_counts_attempts(sample_course: Course, alice: User) -> None:
    lab = _item("io-trap-trace")
    first = services.progress_record_lab_completed(alice, lab, points=6, max_points=10)
    assert (first.status, first.score_percent, first.best_points, first.attempts) == ("completed", 60, 6, 1)
    completed_at = first.completed_at
    better = services.progress_record_lab_completed(alice, lab, points=9, max_points=10)
    worse = services.progress_record_lab_completed(alice, lab, points=2, max_points=10)
    assert (worse.score_percent, worse.best_points, worse.attempts) == (90, 9, 3)
    assert better.completed_at == worse.completed_at == completed_at


def test_a_lab_without_points_counts_as_full_marks(sample_course: Course, alice: User) -> None:
    assert services.progress_record_lab_completed(alice, _item("io-trap-trace"), 0, 0).score_percent == 100


@pytest.mark.parametrize(
    ("slug", "points", "max_points"), [("intro", 1, 1), ("io-trap-trace", 11, 10), ("io-trap-trace", -1, 10)]
)
def test_lab_completion_refuses_other_items_and_impossible_points(
    sample_course: Course, alice: User, slug: str, points: float, max_points: float
) -> None:
    with pytest.raises(ValueError):
        services.progress_record_lab_completed(alice, _item(slug), points, max_points)
    assert not Progress.objects.exists()


def test_module_and_course_percentages_count_completed_items(sample_course: Course, alice: User, bob: User) -> None:
    services.lesson_mark_complete(alice, _item("intro"))
    services.lesson_mark_complete(alice, _item("partitions"))
    services.progress_record_lab_completed(alice, _item("io-trap-trace"), 1, 1)
    services.lesson_visit(alice, _item("wrap-up"))  # in progress does not count
    services.lesson_mark_complete(bob, _item("synthetic-devices"))  # someone else's progress does not count
    state = services.progress_for_course(alice, sample_course)
    assert [(m.module.slug, m.completed, m.total, m.percent) for m in state.modules] == [
        ("basics", 2, 3, 67),
        ("devices", 1, 3, 33),
        ("review", 0, 3, 0),
    ]
    assert (state.completed, state.total, state.percent) == (3, 9, 33)


def test_continue_goes_to_the_first_unfinished_item_in_course_order(sample_course: Course, alice: User) -> None:
    assert services.progress_for_course(alice, sample_course).continue_item.item.slug == "intro"
    services.lesson_mark_complete(alice, _item("synthetic-devices"))  # done out of order: intro is still first
    assert services.progress_for_course(alice, sample_course).continue_item.item.slug == "intro"
    services.lesson_mark_complete(alice, _item("intro"))
    assert services.progress_for_course(alice, sample_course).continue_item.item.slug == "partitions"
    # A lab with partial points is not finished: Continue stops there.
    services.lesson_mark_complete(alice, _item("partitions"))
    services.progress_record_lab_check(alice, _item("io-trap-trace"), 2, 10, passed=False)
    state = services.progress_for_course(alice, sample_course)
    assert [i.item.slug for m in state.modules for i in m.items if not i.completed][0] == state.continue_item.item.slug


def test_a_failed_lab_check_keeps_its_partial_points_as_the_score(sample_course: Course, alice: User) -> None:
    lab = _item("io-trap-trace")
    progress = services.progress_record_lab_check(alice, lab, 2, 10, passed=False)
    assert (progress.status, progress.score_percent, progress.best_points, progress.attempts) == (
        "in_progress",
        20,
        2,
        1,
    )
    worse = services.progress_record_lab_check(alice, lab, 0, 10, passed=False)
    assert (worse.status, worse.best_points) == ("in_progress", 2)
    passed = services.progress_record_lab_check(alice, lab, 8, 10, passed=True)
    assert (passed.status, passed.best_points, passed.score_percent, passed.attempts) == ("completed", 8, 80, 3)


def test_a_finished_course_has_nowhere_to_continue(sample_course: Course, alice: User) -> None:
    for item in Item.objects.all():
        Progress.objects.create(user=alice, item=item, status="completed", last_activity_at=timezone.now())
    state = services.progress_for_course(alice, sample_course)
    assert state.continue_item is None and state.percent == 100


def test_my_progress_shows_a_bar_per_module(sample_course: Course, alice: User, alice_client: Client) -> None:
    services.lesson_mark_complete(alice, _item("intro"))
    page = alice_client.get("/progress/").content.decode()
    assert '<progress max="100" value="11" aria-label="Progress in Sample course for the courseware tests">' in page
    assert '<progress max="100" value="33" aria-label="Progress in Basics">' in page
    assert '<progress max="100" value="0" aria-label="Progress in Review">' in page
    assert "Continue: Partitions" in page


def test_my_progress_needs_a_login(anon_client: Client) -> None:
    response = anon_client.get("/progress/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
