"""The live dashboard: one row per student, a cell per item, attention flags, sorting, raised hands, polling, and a
query count that is the same for 30 and 300 students."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from classes import dashboard
from classes.models import Class, HandRaise
from classes.seed import seed_class
from courseware.models import Course
from labs.models import Lab, LabAttempt, LabRun

pytestmark = pytest.mark.django_db


def _check_run(attempt: LabAttempt, status: str, failing: dict[str, str]) -> LabRun:
    checks = [
        {"id": c["id"], "title": c["title"], "passed": c["id"] not in failing, "message": failing.get(c["id"], "")}
        for c in attempt.lab.definition["checks"]
    ]
    return LabRun.objects.create(attempt=attempt, kind="check", upto_seq=0, status=status, result={"checks": checks})


@pytest.fixture
def lab(course: Course) -> Lab:
    return Lab.objects.get(item__course=course, item__slug="io-trap-trace")


@pytest.mark.parametrize("students", [30, 300])
def test_the_dashboard_query_count_does_not_grow_with_students(
    students: int, course: Course, ian: User, ian_client: Client, django_assert_num_queries: Any
) -> None:
    klass = seed_class(course, students, instructor=ian, seed=students)
    url = reverse("classes:detail", args=[klass.pk])
    # user (the session comes from the cache), class (access), items, memberships with users, progress, last
    # activity per student, latest check runs, active lab attempts, lab definitions, open hands
    with django_assert_num_queries(10):
        response = ian_client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('<tr class="cl-flagged"') + response.content.decode().count("<tr id=") == (
        students
    )
    # The same less the user, who comes from the cache from the second request on (accounts.caching).
    with django_assert_num_queries(9):
        assert ian_client.get(url, headers={"HX-Request": "true", "HX-Target": "board"}).status_code == 200


def test_three_failed_checks_in_a_row_raise_a_flag(
    alice_in_class: Class, alice: User, lab: Lab, ian_client: Client
) -> None:
    attempt = LabAttempt.objects.create(user=alice, lab=lab, number=1, seed=1)
    for _ in range(dashboard.FAILED_CHECKS_IN_A_ROW - 1):
        _check_run(attempt, "failed", {"emulated-write": "Run: io write"})
    board = dashboard.dashboard_build(alice_in_class)
    assert not board.rows[0].flags
    _check_run(attempt, "failed", {"emulated-write": "Run: io write"})
    board = dashboard.dashboard_build(alice_in_class)
    assert [flag.kind for flag in board.rows[0].flags] == ["failed_checks"]
    html = ian_client.get(reverse("classes:detail", args=[alice_in_class.pk])).content.decode()
    assert f"3 failed checks in a row: {lab.item.title}" in html
    _check_run(attempt, "passed", {})
    assert not dashboard.dashboard_build(alice_in_class).rows[0].flags


def test_idle_in_an_open_lab_raises_a_flag(alice_in_class: Class, alice: User, lab: Lab) -> None:
    attempt = LabAttempt.objects.create(user=alice, lab=lab, number=1, seed=1)
    now = timezone.now()
    LabAttempt.objects.filter(pk=attempt.pk).update(
        last_activity_at=now - timedelta(minutes=dashboard.IDLE_MINUTES - 1)
    )
    assert not dashboard.dashboard_build(alice_in_class, now=now).rows[0].flags
    LabAttempt.objects.filter(pk=attempt.pk).update(last_activity_at=now - timedelta(minutes=dashboard.IDLE_MINUTES))
    flags = dashboard.dashboard_build(alice_in_class, now=now).rows[0].flags
    assert [flag.kind for flag in flags] == ["idle"] and "Idle 10 min" in flags[0].text
    LabAttempt.objects.filter(pk=attempt.pk).update(last_activity_at=now - timedelta(hours=5))
    assert not dashboard.dashboard_build(alice_in_class, now=now).rows[0].flags  # gone home, not stuck


def test_a_used_up_hint_ladder_raises_a_flag(alice_in_class: Class, alice: User, lab: Lab) -> None:
    check = lab.definition["checks"][0]
    attempt = LabAttempt.objects.create(user=alice, lab=lab, number=1, seed=1, hints_used={check["id"]: 1})
    assert not dashboard.dashboard_build(alice_in_class).rows[0].flags
    LabAttempt.objects.filter(pk=attempt.pk).update(hints_used={check["id"]: len(check["hints"])})
    flags = dashboard.dashboard_build(alice_in_class).rows[0].flags
    assert [flag.kind for flag in flags] == ["hints"] and flags[0].text == f"Every hint used on “{check['title']}”"


def test_a_raised_hand_shows_in_the_queue_and_is_resolved(
    alice_in_class: Class, alice: User, alice_client: Client, ian_client: Client
) -> None:
    response = alice_client.post(reverse("classes:hand", args=[alice_in_class.pk]), {"note": "VM will not start"})
    assert response.status_code == 303
    alice_client.post(reverse("classes:hand", args=[alice_in_class.pk]), {"note": "again"})  # idempotent
    assert HandRaise.objects.filter(resolved_at__isnull=True).count() == 1
    own_page = alice_client.get(reverse("classes:detail", args=[alice_in_class.pk])).content.decode()
    assert "Your hand is raised" in own_page
    html = ian_client.get(reverse("classes:detail", args=[alice_in_class.pk])).content.decode()
    assert "VM will not start" in html and "Raised hand" in html
    hand = HandRaise.objects.get()
    ian_client.post(reverse("classes:hand_resolve", args=[alice_in_class.pk, hand.pk]))
    html = ian_client.get(reverse("classes:detail", args=[alice_in_class.pk])).content.decode()
    assert "No raised hands." in html


def test_sorting_by_least_progress_and_by_idle_time(course: Course, ian: User, ian_client: Client) -> None:
    klass = seed_class(course, 12, instructor=ian, seed=3)
    board = dashboard.dashboard_build(klass, "progress")
    percents = [row.percent for row in board.rows]
    assert percents == sorted(percents)
    board = dashboard.dashboard_build(klass, "activity")
    epoch = timezone.now() - timedelta(days=3650)
    times = [row.last_activity or epoch for row in board.rows]
    assert times == sorted(times)
    board = dashboard.dashboard_build(klass, "attention")
    flags = [len(row.flags) for row in board.rows]
    assert flags == sorted(flags, reverse=True)
    page = ian_client.get(reverse("classes:detail", args=[klass.pk]) + "?sort=progress").content.decode()
    assert 'value="progress" selected' in page


def test_the_board_polls_only_while_visible_and_the_fragment_comes_alone(
    alice_in_class: Class, ian_client: Client
) -> None:
    url = reverse("classes:detail", args=[alice_in_class.pk])
    page = ian_client.get(url).content.decode()
    # The visibility condition lives in static/js/site.js (htmx may not evaluate trigger filters under the CSP).
    assert 'data-hx-trigger="every 5s"' in page and "js/site.js" in page
    fragment = ian_client.get(url, headers={"HX-Request": "true", "HX-Target": "board"}).content.decode()
    assert fragment.lstrip().startswith('<div id="board"') and "<html" not in fragment


def test_lab_cells_show_the_latest_check(alice_in_class: Class, alice: User, lab: Lab) -> None:
    attempt = LabAttempt.objects.create(user=alice, lab=lab, number=1, seed=1)
    _check_run(attempt, "failed", {"emulated-write": "nope"})
    board = dashboard.dashboard_build(alice_in_class)
    cell = next(cell for cell in board.rows[0].cells if cell.item.slug == "io-trap-trace")
    assert cell.last_check == "failed" and cell.status == "in_progress"
