"""Who may open what: the one module every view asks.

The questions are asked by the lower apps (courseware, labs) and answered by rules that a higher app plugs in at
start-up (`register`, from its AppConfig.ready): the classes app answers them from class membership, pacing and
who teaches which class. With no rules registered the platform is self-paced: every item is open, nobody is in a
class, and only staff teach a course or see another learner's work. So a lower app never imports a higher one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied


@dataclass(frozen=True)
class HelpAction:
    """A way for a learner to ask for help from an item's page: a form that POSTs `note` and `next` to `url`."""

    url: str
    label: str  # e.g. "Raise your hand in Hyper-V week"


class Rules:
    """The self-paced answers; a higher app subclasses this and overrides what it knows better."""

    def item_closed_message(self, user: Any, item: Any) -> str:
        """Why `item` (a courseware Item) is closed for `user`, or "" when they may open or start it."""
        return ""

    def closed_module_ids(self, user: Any, course: Any) -> frozenset[int]:
        """Ids of the modules of `course` that are closed for `user`."""
        return frozenset()

    def enrolled_course_ids(self, user: Any) -> frozenset[int]:
        """Ids of the courses `user` takes in a class (shown as a badge in the catalog)."""
        return frozenset()

    def teaches_course(self, user: Any, course_id: int) -> bool:
        """Whether `user` may read the course's instructor notes and answer keys."""
        return bool(getattr(user, "is_staff", False))

    def may_see_work(self, viewer: Any, student_id: int, course_id: int) -> bool:
        """Whether `viewer` may see the work (attempts, answers, traces) of user `student_id` in course `course_id`."""
        return bool(getattr(viewer, "is_staff", False)) or getattr(viewer, "pk", None) == student_id

    def help_action(self, user: Any, course_id: int) -> HelpAction | None:
        """How `user` asks for help on an item of course `course_id`, if anyone is there to help."""
        return None


_rules: Rules = Rules()


def register(rules: Rules) -> None:
    """Install the platform's rules (called once, by the classes app's AppConfig.ready)."""
    global _rules
    _rules = rules


def rules() -> Rules:
    return _rules


def item_is_open(user: Any, item: Any) -> tuple[bool, str]:
    """(open, message): whether `user` may open or start `item`, and why not."""
    message = _rules.item_closed_message(user, item)
    return not message, message


def require_open(user: Any, item: Any) -> None:
    """Raise PermissionDenied (403, with the reason) unless `user` may open or start `item`."""
    message = _rules.item_closed_message(user, item)
    if message:
        raise PermissionDenied(message)


def closed_module_ids(user: Any, course: Any) -> frozenset[int]:
    return _rules.closed_module_ids(user, course)


def enrolled_course_ids(user: Any) -> frozenset[int]:
    return _rules.enrolled_course_ids(user)


def teaches_course(user: Any, course_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return _rules.teaches_course(user, course_id)


def may_see_work(viewer: Any, student_id: int, course_id: int) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    return _rules.may_see_work(viewer, student_id, course_id)


def help_action(user: Any, course_id: int) -> HelpAction | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return _rules.help_action(user, course_id)
