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
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from classes.models import Class, ClassModule, HandRaise, Invitation, Membership, ResetLog, new_join_code
from core import access, ratelimit
from courseware import caching as courseware_caching
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
    """Whether `user` may read a course's instructor notes and answer keys (core.access answers, with the class
    rules of classes.access)."""
    return access.teaches_course(user, course_id)


def lab_attempt_get_for_instructor(user: Any, attempt_id: int) -> LabAttempt:
    """A lab attempt `user` may replay: core.access decides (staff; an instructor of a class of that course that the
    student is in); 404 otherwise."""
    found = LabAttempt.objects.select_related("lab__item__course", "user").filter(pk=attempt_id).first()
    if found is None or not access.may_see_work(user, found.user_id, found.lab.item.course_id):
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
    """Make `user` a student of `klass` (True if new). Only for the student's own act (join code or link, an
    accepted invitation) or a trusted roster (an LMS launch): an instructor's adds are invitations
    (`invitations_create`). The pacing cache is refreshed by the post_save signal."""
    _, created = Membership.objects.get_or_create(klass=klass, user=user, defaults={"via": via})
    return created


def membership_remove(klass: Class, user: User) -> bool:
    """Take `user` out of `klass` (True if they were in it); their progress stays. The pacing cache is refreshed by
    the post_delete signal."""
    membership = Membership.objects.filter(klass=klass, user=user).first()
    if membership is None:
        return False
    membership.delete()
    return True


MAX_INVITATIONS_PER_REQUEST = 500


@dataclass
class InvitationResult:
    """What an instructor is told after inviting: nothing here depends on whether an address has an account."""

    invited: list[str] = field(default_factory=list)  # addresses as typed, now waiting for an answer
    waiting: list[str] = field(default_factory=list)  # addresses that already had a pending invitation
    in_class: list[User] = field(default_factory=list)  # people already in (or teaching) this class: on its roster
    dropped: int = 0  # entries past MAX_INVITATIONS_PER_REQUEST


def parse_addresses(text: str) -> list[str]:
    """Usernames or emails from a CSV or a list typed one per line or comma-separated, in order, without repeats
    or a 'username'/'email' header."""
    wanted: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            value = cell.strip()
            if value and value.lower() not in ("username", "email") and value not in wanted:
                wanted.append(value)
    return wanted


def _accounts_by_address(addresses: list[str]) -> dict[str, User]:
    lowered = [value.lower() for value in addresses]
    users = User.objects.annotate(username_lower=Lower("username"), email_lower=Lower("email")).filter(
        Q(username_lower__in=lowered) | Q(email_lower__in=lowered)
    )
    by_key: dict[str, User] = {}
    for user in users.order_by("pk"):
        by_key[user.username.lower()] = user
    for user in users.order_by("pk"):
        if user.email:
            by_key.setdefault(user.email.lower(), user)
    return by_key


def invitations_create(
    klass: Class, addresses: list[str], invited_by: User, role: str = Invitation.Role.STUDENT
) -> InvitationResult:
    """Invite people by username or email to join `klass` (as students, or with role INSTRUCTOR to co-teach it).

    Nobody is added here: each invitee accepts or declines on their Classes page (`invitation_accept`). An address
    with no account (or, to co-teach, no instructor account) gets the same pending row as any other, so neither the
    result nor the class's list of invitations tells whether an account exists. People already in the class or
    teaching it are reported as such (they are on the class's roster already). A trusted source of members, such as
    an LMS roster, adds students with `membership_add` instead.
    """
    result = InvitationResult()
    if len(addresses) > MAX_INVITATIONS_PER_REQUEST:
        result.dropped = len(addresses) - MAX_INVITATIONS_PER_REQUEST
        addresses = addresses[:MAX_INVITATIONS_PER_REQUEST]
    if not addresses:
        return result
    by_key = _accounts_by_address(addresses)
    members = set(Membership.objects.filter(klass=klass).values_list("user_id", flat=True))
    teachers = set(klass.instructors.values_list("pk", flat=True))
    pending = set(
        Invitation.objects.filter(klass=klass, role=role, status=Invitation.Status.PENDING).values_list(
            "address", flat=True
        )
    )
    rows: list[Invitation] = []
    for value in addresses:
        address = value.lower()
        user = by_key.get(address)
        if user is not None and (user.pk in members or user.pk in teachers):
            if user not in result.in_class:
                result.in_class.append(user)
            continue
        if address in pending:
            result.waiting.append(value)
            continue
        if role == Invitation.Role.INSTRUCTOR and user is not None and not user.is_instructor:
            user = None  # only an instructor account can co-teach; the row looks like any other
        pending.add(address)
        rows.append(Invitation(klass=klass, role=role, address=address, user=user, invited_by=invited_by))
        result.invited.append(value)
    Invitation.objects.bulk_create(rows, ignore_conflicts=True)
    logger.info("%s invited %d %s(s) to class %s", invited_by.username, len(rows), role, klass.pk)
    return result


def invitations_link(user: User) -> int:
    """Attach to a new account the pending student invitations addressed to its username or email before it
    existed (called when an account is created); returns how many."""
    addresses = [value.lower() for value in (user.username, user.email) if value]
    return Invitation.objects.filter(
        user__isnull=True, role=Invitation.Role.STUDENT, status=Invitation.Status.PENDING, address__in=addresses
    ).update(user=user)


def link_invitations_on_signup(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        invitations_link(instance)


def invitations_for_user(user: User) -> list[Invitation]:
    """`user`'s pending invitations, newest first, with their classes and courses."""
    return list(
        Invitation.objects.filter(user=user, status=Invitation.Status.PENDING).select_related(
            "klass__course", "invited_by"
        )
    )


def invitations_pending(klass: Class) -> list[Invitation]:
    """The class's unanswered invitations, by address (the same for addresses with and without an account)."""
    return list(
        Invitation.objects.filter(klass=klass, status=Invitation.Status.PENDING)
        .only("id", "klass_id", "role", "address", "created_at")
        .order_by("role", "address")
    )


def invitation_get_for_invitee(user: Any, invitation_id: int) -> Invitation:
    """A pending invitation addressed to `user`; 404 for anyone else's, or one already answered."""
    found = (
        Invitation.objects.select_related("klass__course")
        .filter(pk=invitation_id, user_id=getattr(user, "pk", None), status=Invitation.Status.PENDING)
        .first()
    )
    if found is None:
        raise Http404("No such invitation for you.")
    return found


def invitation_accept(invitation: Invitation, user: User) -> Class:
    """Accept: join the class as a student, or co-teach it. Raises ValueError with a message for the invitee."""
    klass = invitation.klass
    teaching = klass.instructors.filter(pk=user.pk).exists()
    if invitation.role == Invitation.Role.STUDENT and teaching:
        raise ValueError("You teach this class; instructors do not join their own class as students.")
    if invitation.role == Invitation.Role.INSTRUCTOR:
        if not user.is_instructor:
            raise ValueError("Only an instructor account can co-teach a class.")
        if Membership.objects.filter(klass=klass, user=user).exists():
            raise ValueError("You are a student in this class, so you cannot also teach it.")
    with transaction.atomic():
        answered = Invitation.objects.filter(pk=invitation.pk, user=user, status=Invitation.Status.PENDING).update(
            status=Invitation.Status.ACCEPTED, answered_at=timezone.now()
        )
        if not answered:
            raise ValueError("This invitation was already answered.")
        if invitation.role == Invitation.Role.INSTRUCTOR:
            klass.instructors.add(user)
        else:
            membership_add(klass, user, Membership.Via.INVITATION)
    logger.info("%s accepted a %s invitation to class %s", user.username, invitation.role, klass.pk)
    return klass


def invitation_decline(invitation: Invitation, user: User) -> None:
    Invitation.objects.filter(pk=invitation.pk, user=user, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.DECLINED, answered_at=timezone.now()
    )


def invitation_cancel(klass: Class, invitation_id: int) -> bool:
    """Withdraw a pending invitation of `klass` (True if there was one)."""
    return bool(Invitation.objects.filter(klass=klass, pk=invitation_id, status=Invitation.Status.PENDING).delete()[0])


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
# A reset never deletes: the lab attempt or quiz attempts are archived (who, when, which class, why), a ResetLog row
# and a log line record it, and it is refused when it would change the student's work in a class the resetting
# instructor does not teach (attempts and progress belong to the student, not to one class).

SHARED_WITH_ANOTHER_CLASS = (
    "This student also takes this course in a class you do not teach, and a reset would change their work there "
    "too, so nothing was reset. An instructor of both classes, or staff, can reset it."
)


def _check_reset(klass: Class, student: User, instructor: User, reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the reset; it is logged.")
    if not instructor.is_staff:
        elsewhere = (
            Membership.objects.filter(user=student, klass__course_id=klass.course_id)
            .exclude(klass=klass)
            .exclude(klass__instructors=instructor)
        )
        if elsewhere.exists():
            raise ValueError(SHARED_WITH_ANOTHER_CLASS)
    return reason


def _archive_note(klass: Class, instructor: User, reason: str) -> str:
    return f"reset by {instructor.username} in class {klass.pk} ({klass.title}): {reason}"[:600]


def lab_reset_for_student(klass: Class, student: User, lab: Lab, instructor: User, reason: str) -> ResetLog:
    """Archive the student's current lab attempt (status reset, kept with its actions and runs), start a new one,
    and log who did it, in which class, and why."""
    from labs.services import lab_attempt_reset

    reason = _check_reset(klass, student, instructor, reason)
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
        new = lab_attempt_reset(attempt, reason=_archive_note(klass, instructor, reason))
        detail["new_attempt"] = new.number
        log = ResetLog.objects.create(
            klass=klass, student=student, instructor=instructor, item=lab.item, kind=ResetLog.Kind.LAB,
            reason=reason[:500], detail=detail,
        )  # fmt: skip
    logger.info("%s reset lab %s of user %s in class %s", instructor.username, lab.item.slug, student.pk, klass.pk)
    return log


def quiz_reset_for_student(klass: Class, student: User, quiz: Quiz, instructor: User, reason: str) -> ResetLog:
    """Archive the student's attempts at a quiz (kept, with their answers, but no longer counted) so they start
    afresh, and log who did it, in which class, and why."""
    reason = _check_reset(klass, student, instructor, reason)
    now = timezone.now()
    with transaction.atomic():
        attempts = list(
            QuizAttempt.objects.select_for_update().filter(user=student, quiz=quiz, archived_at__isnull=True)
        )
        if not attempts:
            raise ValueError("This student has no attempts at this quiz to reset.")
        detail = {
            "attempts": [
                {"number": a.number, "percent": a.percent, "passed": a.passed, "answers": a.answers} for a in attempts
            ]
        }
        QuizAttempt.objects.filter(pk__in=[a.pk for a in attempts]).update(
            archived_at=now, archived_note=_archive_note(klass, instructor, reason)
        )
        Progress.objects.filter(user=student, item=quiz.item).update(
            attempts=0, score_percent=None, best_points=0, status=Progress.Status.IN_PROGRESS, completed_at=None
        )
        courseware_caching.progress_changed(student.pk)  # an update sends no signal: retire their cached pages
        log = ResetLog.objects.create(
            klass=klass, student=student, instructor=instructor, item=quiz.item, kind=ResetLog.Kind.QUIZ,
            reason=reason[:500], detail=detail,
        )  # fmt: skip
    logger.info("%s reset quiz %s of user %s in class %s", instructor.username, quiz.item.slug, student.pk, klass.pk)
    return log
