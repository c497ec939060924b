"""The classes app's answers to core.access (registered in ClassesConfig.ready).

- An item is closed when every class the learner takes its course in is paced and keeps its module closed
  (classes.pacing; no query for a self-paced learner).
- A course is taught by staff and by the instructors of its classes.
- An instructor sees a student's work in a course only when the student is a member (the student joined with the
  code or link, or accepted an invitation) of a class of that course that the instructor teaches.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from classes import pacing
from core.access import HelpAction, Rules


class ClassRules(Rules):
    def item_closed_message(self, user: Any, item: Any) -> str:
        return pacing.item_is_open_for(user, item)[1]

    def closed_module_ids(self, user: Any, course: Any) -> frozenset[int]:
        return pacing.closed_module_ids(user, course)

    def enrolled_course_ids(self, user: Any) -> frozenset[int]:
        return pacing.enrolled_course_ids(user)

    def teaches_course(self, user: Any, course_id: int) -> bool:
        """Staff, or an instructor of one of the course's classes (one query for an instructor, none otherwise)."""
        from classes.models import Class

        if getattr(user, "is_staff", False):
            return True
        if not getattr(user, "is_instructor", False):
            return False
        return Class.objects.filter(course_id=course_id, instructors=user).exists()

    def may_see_work(self, viewer: Any, student_id: int, course_id: int) -> bool:
        from classes.models import Membership

        if super().may_see_work(viewer, student_id, course_id):
            return True
        if not getattr(viewer, "is_instructor", False):
            return False
        return Membership.objects.filter(
            user_id=student_id, klass__course_id=course_id, klass__instructors=viewer
        ).exists()

    def help_action(self, user: Any, course_id: int) -> HelpAction | None:
        """Raise a hand in the learner's latest class for the course (no query for a self-paced learner)."""
        from classes.models import Class

        if course_id not in pacing.enrolled_course_ids(user):
            return None
        klass = Class.objects.filter(memberships__user=user, course_id=course_id).order_by("-pk").first()
        if klass is None:
            return None
        return HelpAction(url=reverse("classes:hand", args=[klass.pk]), label=f"Raise your hand in {klass.title}")
