"""Who may present, print the instructor handbook, or issue certificates: the questions every delivery view asks."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from classes.services import teaches_course

TRAINERS_ONLY = (
    "This is for the instructors of this course's classes (and staff): create a class for the course to use it."
)


def require_trainer(user: Any, course_id: int) -> None:
    """Staff, or an instructor of a class for the course; anyone else gets 403 with the reason (one query at most)."""
    if not teaches_course(user, course_id):
        raise PermissionDenied(TRAINERS_ONLY)
