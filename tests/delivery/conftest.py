"""Delivery fixtures: the sample course (with the shipped I/O lab) whose intro lesson has slide breaks and notes,
a class taught by ian with alice in it; olga teaches nothing of it, bob is in no class."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import User
from classes import services as class_services
from classes.models import Class
from courseware.models import Course
from courseware.services import course_load
from tests.classes.conftest import build_class_course, make_class

SLIDE_BREAK_LESSON = """
## A section with two slides

First half of the section.

<!-- notes
SLIDE-NOTES-SECRET: ask the room **which partition** owns the disk.
-->

<!-- slide -->

Second half of the section.
<!-- notes: INLINE-NOTES-SECRET one line of notes -->

```text
<!-- slide -->
this marker is inside code and stays text
```
"""


def add_slide_markup(folder: Path) -> Path:
    lesson = folder / "01-basics" / "partitions.md"
    lesson.write_text(lesson.read_text() + SLIDE_BREAK_LESSON)
    return folder


@pytest.fixture
def course(db: None, tmp_path: Path) -> Course:
    return course_load(add_slide_markup(build_class_course(tmp_path / "sample-course"))).course


@pytest.fixture
def klass(ian: User, course: Course) -> Class:
    return make_class(ian, course)


@pytest.fixture
def alice_in_class(klass: Class, alice: User) -> Class:
    class_services.membership_add(klass, alice, "code")
    return klass
