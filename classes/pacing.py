"""Pacing: whether a learner may open an item, given the classes they are in.

An item is open if the learner is in no class for its course (self-paced), or if ANY of their classes for that
course has the item's module open (an unpaced class, a class that has ended, or a ClassModule row).

The courses a learner takes in a class are cached per user (refreshed at sign-in and whenever a membership
changes), so a self-paced learner's pages cost no query at all for this check; an enrolled learner's cost one.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils import timezone

CLOSED_MESSAGE = "This opens when your instructor starts it."
CACHE_SECONDS = 24 * 3600


def _cache_key(user: Any) -> str:
    return f"classes:courses:{user.pk}"


def enrolled_course_ids(user: Any) -> frozenset[int]:
    """Ids of the courses `user` takes in at least one class (cached; one query on a miss)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = cache.get(_cache_key(user))
    if cached is None:
        cached = refresh(user)
    return frozenset(cached)


def refresh(user: Any) -> list[int]:
    """Re-read and cache the courses `user` takes in a class; call after any membership change."""
    from classes.models import Membership

    ids = sorted(set(Membership.objects.filter(user_id=user.pk).values_list("klass__course_id", flat=True)))
    cache.set(_cache_key(user), ids, CACHE_SECONDS)
    return ids


def refresh_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    refresh(user)


def refresh_on_membership(sender: Any, instance: Any, **kwargs: Any) -> None:
    from accounts.models import User

    user = User.objects.filter(pk=instance.user_id).only("pk", "date_joined").first()
    if user is not None:
        refresh(user)


def _open_classes(user: Any, course_id: int) -> Any:
    from classes.models import Membership

    return Membership.objects.filter(user_id=user.pk, klass__course_id=course_id)


def item_is_open_for(user: Any, item: Any) -> tuple[bool, str]:
    """(open, message): open unless every one of the user's classes for the item's course keeps its module closed."""
    if item.course_id not in enrolled_course_ids(user):
        return True, ""
    from classes.models import ClassModule

    opened = ClassModule.objects.filter(klass_id=OuterRef("klass_id"), module_id=item.module_id)
    classes = list(
        _open_classes(user, item.course_id)
        .annotate(opened=Exists(opened))
        .values_list("klass__paced", "klass__ends_on", "opened")
    )
    if not classes:  # the cache was stale (a class was deleted): self-paced after all
        refresh(user)
        return True, ""
    today = timezone.localdate()
    if any(not paced or ends_on < today or opened for paced, ends_on, opened in classes):
        return True, ""
    return False, CLOSED_MESSAGE


def require_open(user: Any, item: Any) -> None:
    """Raise PermissionDenied (403, with the message) when `item` is closed for `user` by their class's pacing."""
    is_open, message = item_is_open_for(user, item)
    if not is_open:
        raise PermissionDenied(message)


def closed_module_ids(user: Any, course: Any) -> frozenset[int]:
    """Ids of the course's modules that are closed for `user` (none for a self-paced learner, with no query)."""
    if course.pk not in enrolled_course_ids(user):
        return frozenset()
    from classes.models import ClassModule
    from courseware.models import Module

    today = timezone.localdate()
    classes = list(_open_classes(user, course.pk).values_list("klass_id", "klass__paced", "klass__ends_on"))
    if not classes or any(not paced or ends_on < today for _, paced, ends_on in classes):
        return frozenset()
    opened = ClassModule.objects.filter(klass_id__in=[klass_id for klass_id, _, _ in classes]).values("module_id")
    return frozenset(Module.objects.filter(course=course).exclude(pk__in=opened).values_list("pk", flat=True))
