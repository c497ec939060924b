"""Classes work that spans models: access to a class, creating and joining, membership, co-instructors, pacing,
raised hands and resets. The live dashboard is in classes.dashboard, the gradebook and its exports in
classes.gradebook.

Access to a class always goes through `class_get_for_instructor` or `class_get_for_member`, which filter by the
requesting user: another instructor's class, or a class the student is not in, is a 404.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from classes import pacing
from classes.models import Class, ClassModule, HandRaise, Membership, ResetLog, new_join_code
from core import ratelimit
from courseware.models import Course, Module, Progress, Quiz, QuizAttempt
from labs.models import Lab, LabAttempt

logger = logging.getLogger(__name__)

# Join attempts: JOIN_FAILURE_LIMIT wrong codes per user within JOIN_FAILURE_WINDOW_SECONDS, then 429.
JOIN_FAILURE_LIMIT = 10
JOIN_FAILURE_WINDOW_SECONDS = 600


class JoinError(Exception):
    """A join code that was refused; the message is shown to the student."""


class JoinRateLimitedError(JoinError):
    pass


# --- Access ----------------------------------------------------------------------------------------------------


def class_get_for_instructor(user: Any, class_id: int) -> Class:
    """The class if `user` is one of its instructors or staff; 404 otherwise (another instructor's class too)."""
    classes = Class.objects.select_related("course")
    if not getattr(user, "is_staff", False):
        if not getattr(user, "is_instructor", False):
            raise Http404("No such class.")
        classes = classes.filter(instructors=user)
    found = classes.filter(pk=class_id).first()
    if found is None:
        raise Http404("No such class.")
    return found


def class_get_for_member(user: Any, class_id: int) -> Class:
    """The class if `user` is a student in it; 404 otherwise."""
    found = Class.objects.select_related("course").filter(pk=class_id, memberships__user=user).first()
    if found is None:
        raise Http404("No such class.")
    return found


def class_is_taught_by(klass: Class, user: Any) -> bool:
    return bool(getattr(user, "is_staff", False)) or klass.instructors.filter(pk=user.pk).exists()


def classes_for_user(user: Any) -> tuple[list[Class], list[Class]]:
    """(classes `user` teaches, classes `user` is a student in)."""
    taught = list(Class.objects.filter(instructors=user).select_related("course")) if user.is_instructor else []
    joined = list(Class.objects.filter(memberships__user=user).select_related("course"))
    return taught, joined


def student_get_for_class(klass: Class, user_id: int) -> Membership:
    """A student's membership of `klass`, with the user; 404 for anyone who is not in the class."""
    found = Membership.objects.select_related("user").filter(klass=klass, user_id=user_id).first()
    if found is None:
        raise Http404("No such student in this class.")
    return found


def teaches_course(user: Any, course_id: int) -> bool:
    """Whether `user` may read a course's instructor notes and answer keys: staff, or an instructor of one of the
    classes of that course (one query for an instructor, none for anyone else)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_staff", False):
        return True
    if not getattr(user, "is_instructor", False):
        return False
    return Class.objects.filter(course_id=course_id, instructors=user).exists()


def lab_attempt_get_for_instructor(user: Any, attempt_id: int) -> LabAttempt:
    """A lab attempt an instructor may replay: the student is in one of the user's classes for that course (staff:
    any attempt); 404 otherwise."""
    attempts = LabAttempt.objects.select_related("lab__item__course", "user")
    if not getattr(user, "is_staff", False):
        attempts = attempts.filter(
            user__class_memberships__klass__instructors=user,
            user__class_memberships__klass__course=F("lab__item__course"),
        )
    found = attempts.filter(pk=attempt_id).first()
    if found is None:
        raise Http404("No such lab attempt in your classes.")
    return found


# --- Creating, joining, membership -----------------------------------------------------------------------------


def class_create(
    instructor: User, course: Course, title: str, starts_on: date, ends_on: date, paced: bool = False
) -> Class:
    """Create a class taught by `instructor`, with a fresh join code."""
    for _ in range(5):
        try:
            with transaction.atomic():
                klass = Class.objects.create(
                    course=course, title=title, starts_on=starts_on, ends_on=ends_on, paced=paced,
                    created_by=instructor, join_code=new_join_code(),
                )  # fmt: skip
                klass.instructors.add(instructor)
                return klass
        except IntegrityError:
            continue  # a code collision: draw another
    raise RuntimeError("could not draw a unique join code")


def class_regenerate_code(klass: Class) -> str:
    """Give the class a new join code (the old one stops working at once)."""
    for _ in range(5):
        try:
            with transaction.atomic():
                klass.join_code = new_join_code()
                klass.save(update_fields=["join_code"])
                return klass.join_code
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a unique join code")


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _failures_key(user: Any) -> str:
    return f"classes:join-failures:{user.pk}"


def class_join(user: User, code: str, via: str = Membership.Via.CODE) -> tuple[Class, bool]:
    """Join the class whose code is `code`: (class, True if newly joined). Raises JoinError with a clear message,
    or JoinRateLimitedError after too many wrong codes."""
    key = _failures_key(user)
    if ratelimit.count(key) >= JOIN_FAILURE_LIMIT:
        raise JoinRateLimitedError(
            "Too many wrong join codes. Wait 10 minutes, then try again; your instructor can also add you directly."
        )
    klass = Class.objects.select_related("course").filter(join_code=normalise_code(code)).first()
    if klass is None:
        ratelimit.hit(key, JOIN_FAILURE_WINDOW_SECONDS)
        raise JoinError("No class has this join code. Check the code with your instructor (letters and digits).")
    if klass.code_expired:
        raise JoinError(
            f"The join code of {klass.title} expired when the class ended on {klass.ends_on:%d %B %Y}. "
            "Ask your instructor to add you."
        )
    if klass.instructors.filter(pk=user.pk).exists():
        raise JoinError("You teach this class; instructors do not join their own class as students.")
    created = membership_add(klass, user, via)
    return klass, created


def membership_add(klass: Class, user: User, via: str) -> bool:
    """Add `user` to `klass` as a student (True if new); the pacing cache is refreshed by the post_save signal."""
    _, created = Membership.objects.get_or_create(klass=klass, user=user, defaults={"via": via})
    return created


@dataclass
class CsvResult:
    added: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    instructors: list[User] = field(default_factory=list)


def members_add_csv(klass: Class, text: str) -> CsvResult:
    """Add students listed by username or email (one per line or comma-separated) to `klass`, in bulk."""
    wanted: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            value = cell.strip()
            if value and value.lower() not in ("username", "email") and value not in wanted:
                wanted.append(value)
    result = CsvResult()
    if not wanted:
        return result
    lowered = [value.lower() for value in wanted]
    users = list(
        User.objects.annotate(username_lower=Lower("username"), email_lower=Lower("email")).filter(
            Q(username_lower__in=lowered) | Q(email_lower__in=lowered)
        )
    )
    by_key: dict[str, User] = {}
    for user in users:
        by_key[user.username.lower()] = user
        if user.email:
            by_key.setdefault(user.email.lower(), user)
    existing = set(Membership.objects.filter(klass=klass).values_list("user_id", flat=True))
    teachers = set(klass.instructors.values_list("pk", flat=True))
    new: list[User] = []
    for value in wanted:
        user = by_key.get(value.lower())
        if user is None:
            result.unknown.append(value)
        elif user.pk in teachers:
            result.instructors.append(user)
        elif user.pk in existing or user in new:
            if user not in result.already:
                result.already.append(user)
        else:
            new.append(user)
    Membership.objects.bulk_create(
        [Membership(klass=klass, user=user, via=Membership.Via.CSV) for user in new], ignore_conflicts=True
    )
    for user in new:
        pacing.refresh(user)
    result.added = new
    return result


def instructor_add(klass: Class, username_or_email: str) -> User:
    """Add a co-instructor by username or email; raises ValueError if there is no such instructor."""
    value = username_or_email.strip()
    user = User.objects.filter(Q(username=value) | Q(email__iexact=value)).first()
    if user is None or not user.is_instructor:
        raise ValueError(f"No instructor account is called {value!r}.")
    klass.instructors.add(user)
    return user


# --- Pacing ----------------------------------------------------------------------------------------------------


def module_open(klass: Class, module: Module, instructor: User) -> None:
    ClassModule.objects.get_or_create(klass=klass, module=module, defaults={"opened_by": instructor})


def module_close(klass: Class, module: Module) -> None:
    ClassModule.objects.filter(klass=klass, module=module).delete()


def modules_open_all(klass: Class, instructor: User) -> None:
    modules = Module.objects.filter(course_id=klass.course_id, archived=False)
    ClassModule.objects.bulk_create(
        [ClassModule(klass=klass, module=module, opened_by=instructor) for module in modules], ignore_conflicts=True
    )


def modules_with_state(klass: Class) -> list[tuple[Module, ClassModule | None]]:
    openings = {opening.module_id: opening for opening in ClassModule.objects.filter(klass=klass)}
    modules = Module.objects.filter(course_id=klass.course_id, archived=False).order_by("position")
    return [(module, openings.get(module.pk)) for module in modules]


# --- Raised hands ----------------------------------------------------------------------------------------------


def hand_raise(klass: Class, user: User, note: str = "") -> HandRaise:
    """Raise `user`'s hand in `klass` (idempotent while one is open)."""
    try:
        with transaction.atomic():
            return HandRaise.objects.create(klass=klass, user=user, note=note[:300])
    except IntegrityError:
        return HandRaise.objects.get(klass=klass, user=user, resolved_at__isnull=True)


def hand_lower(klass: Class, user: User) -> None:
    HandRaise.objects.filter(klass=klass, user=user, resolved_at__isnull=True).update(resolved_at=timezone.now())


def hand_resolve(klass: Class, hand_id: int, instructor: User) -> bool:
    return bool(
        HandRaise.objects.filter(klass=klass, pk=hand_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=instructor
        )
    )


def open_hand(klass: Class, user: User) -> HandRaise | None:
    return HandRaise.objects.filter(klass=klass, user=user, resolved_at__isnull=True).first()


def lab_for_class(klass: Class, slug: str) -> Lab:
    lab = Lab.objects.select_related("item").filter(item__course_id=klass.course_id, item__slug=slug).first()
    if lab is None:
        raise Http404("This class's course has no such lab.")
    return lab


# --- Resets ----------------------------------------------------------------------------------------------------


def lab_reset_for_student(klass: Class, student: User, lab: Lab, instructor: User, reason: str) -> ResetLog:
    """Reset the student's current lab attempt (kept for the record) and log who did it and why."""
    from labs.services import lab_attempt_reset

    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the reset; it is logged.")
    attempt = LabAttempt.objects.filter(
        user=student, lab=lab, status__in=(LabAttempt.Status.ACTIVE, LabAttempt.Status.COMPLETED)
    ).order_by("-number").first()  # fmt: skip
    if attempt is None:
        raise ValueError("This student has no attempt at this lab to reset.")
    detail = {"attempt": attempt.number, "best_points": attempt.best_points, "actions": attempt.action_count}
    with transaction.atomic():
        if attempt.status == LabAttempt.Status.COMPLETED:
            LabAttempt.objects.filter(pk=attempt.pk).update(status=LabAttempt.Status.ACTIVE)
            attempt.status = LabAttempt.Status.ACTIVE
        new = lab_attempt_reset(attempt, reason=f"reset by {instructor.username}: {reason}")
        detail["new_attempt"] = new.number
        return ResetLog.objects.create(
            klass=klass, student=student, instructor=instructor, item=lab.item, kind=ResetLog.Kind.LAB,
            reason=reason[:500], detail=detail,
        )  # fmt: skip


def quiz_reset_for_student(klass: Class, student: User, quiz: Quiz, instructor: User, reason: str) -> ResetLog:
    """Remove the student's attempts at a quiz so they start afresh; the log keeps what each attempt scored."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the reset; it is logged.")
    with transaction.atomic():
        attempts = list(QuizAttempt.objects.select_for_update().filter(user=student, quiz=quiz))
        if not attempts:
            raise ValueError("This student has no attempts at this quiz to reset.")
        detail = {
            "attempts": [
                {"number": a.number, "percent": a.percent, "passed": a.passed, "answers": a.answers} for a in attempts
            ]
        }
        QuizAttempt.objects.filter(pk__in=[a.pk for a in attempts]).delete()
        Progress.objects.filter(user=student, item=quiz.item).update(
            attempts=0, score_percent=None, best_points=0, status=Progress.Status.IN_PROGRESS, completed_at=None
        )
        return ResetLog.objects.create(
            klass=klass, student=student, instructor=instructor, item=quiz.item, kind=ResetLog.Kind.QUIZ,
            reason=reason[:500], detail=detail,
        )  # fmt: skip
