"""The data migration that carries partial lab points recorded before there was one lab score into Progress."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.labs.conftest import historical_lab, migrate_to, migrate_to_latest

BEFORE = [("labs", "0002_run_budget_and_fair_order"), ("courseware", "0004_quiz_attempt_archive")]
AFTER = [("labs", "0003_backfill_lab_scores")]


@pytest.mark.django_db(transaction=True)
def test_partial_points_of_earlier_attempts_reach_progress() -> None:
    apps = migrate_to(BEFORE)
    now = timezone.now()
    User = apps.get_model("accounts", "User")
    alice = User.objects.create(username="alice-old", email="a@example.test")
    bob = User.objects.create(username="bob-old", email="b@example.test")
    lab, item = historical_lab(apps, max_points=10)
    attempts = apps.get_model("labs", "LabAttempt").objects
    attempts.create(user=alice, lab=lab, number=1, seed=1, status="reset", best_points=2)
    attempts.create(user=alice, lab=lab, number=2, seed=2, status="active", best_points=4)
    attempts.create(user=bob, lab=lab, number=1, seed=3, status="active", best_points=3)
    Progress = apps.get_model("courseware", "Progress")
    Progress.objects.create(
        user=bob, item=item, status="completed", score_percent=90.0, best_points=9, last_activity_at=now
    )

    Progress = migrate_to(AFTER).get_model("courseware", "Progress")
    mine = Progress.objects.get(user_id=alice.pk, item_id=item.pk)
    assert (mine.score_percent, mine.best_points, mine.status) == (40.0, 4.0, "in_progress")
    theirs = Progress.objects.get(user_id=bob.pk, item_id=item.pk)
    assert (theirs.score_percent, theirs.status) == (90.0, "completed"), "a better score is never lowered"
    migrate_to_latest()
