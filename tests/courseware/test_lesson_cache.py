"""The lesson page caches the lesson's row and its rendering, never what is the learner's own, and a course load
shows the new text at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from courseware import services

pytestmark = pytest.mark.django_db
INTRO = "/courses/sample/lessons/intro/"


def test_a_course_load_shows_the_new_lesson_text_at_once(sample_copy: Path, alice_client: Client) -> None:
    services.course_load(sample_copy)
    assert "runs below every operating system" in alice_client.get(INTRO).content.decode()
    lesson = sample_copy / "01-basics" / "intro.md"
    lesson.write_text(lesson.read_text().replace("runs below every operating system", "CACHE-BUSTED-TEXT"))
    services.course_load(sample_copy)
    page = alice_client.get(INTRO).content.decode()
    assert "CACHE-BUSTED-TEXT" in page and "runs below every operating system" not in page


def test_a_lesson_removed_by_a_load_is_gone_at_once(sample_copy: Path, alice_client: Client) -> None:
    services.course_load(sample_copy)
    assert alice_client.get("/courses/sample/lessons/partitions/").status_code == 200
    module = sample_copy / "01-basics" / "module.yaml"
    module.write_text("\n".join(line for line in module.read_text().splitlines() if "partitions" not in line) + "\n")
    (sample_copy / "01-basics" / "partitions.md").unlink()
    intro = sample_copy / "01-basics" / "intro.md"
    intro.write_text(intro.read_text().replace("[partitions](lesson:partitions)", "partitions"))
    services.course_load(sample_copy)
    assert alice_client.get("/courses/sample/lessons/partitions/").status_code == 404


def test_the_cached_lesson_still_shows_each_learners_own_progress(
    sample_course: object, alice_client: Client, bob_client: Client
) -> None:
    alice_client.post(INTRO + "complete")
    assert "✓ Completed." in alice_client.get(INTRO).content.decode()
    page = bob_client.get(INTRO).content.decode()
    assert "✓ Completed." not in page and "Mark complete" in page


def test_a_students_cached_lesson_never_carries_the_instructor_notes(
    sample_course: object, stan: User, stan_client: Client, alice_client: Client
) -> None:
    assert "NOTES-SECRET-INTRO" in stan_client.get(INTRO).content.decode()  # staff renders (and caches) first
    assert "NOTES-SECRET-INTRO" not in alice_client.get(INTRO).content.decode()
