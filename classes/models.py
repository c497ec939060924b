"""Classes: an instructor-led delivery of one course to a group of learners.

A class has instructors (the creator and any co-instructors), members (students who joined with the code or were
added from a CSV), optional pacing (modules opened one by one: a ClassModule row per opened module), raised hands,
a log of resets made by instructors, and gradebook exports built by a Celery task.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from courseware.models import Item

# Join codes avoid characters that are easy to mistake for one another (0/O, 1/I/L, 5/S, 2/Z, 8/B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Class(models.Model):
    """One delivery of a course. `paced`: modules open only when an instructor opens them for the class."""

    course = models.ForeignKey("courseware.Course", on_delete=models.CASCADE, related_name="classes")
    title = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="The join code stops working after this day.")
    paced = models.BooleanField(
        default=False, help_text="Open modules one by one for the class; otherwise every module is open."
    )
    join_code = models.CharField(max_length=CODE_LENGTH, unique=True, default=new_join_code)
    instructors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="taught_classes")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on", "title"]
        verbose_name_plural = "classes"

    def __str__(self) -> str:
        return self.title

    @property
    def code_expired(self) -> bool:
        return timezone.localdate() > self.ends_on

    @property
    def has_ended(self) -> bool:
        return self.code_expired

    def live_items(self) -> list[Item]:
        """The course's items that are not archived, in teaching order, with only the columns tables show (1 query)."""
        return list(
            Item.objects.filter(course_id=self.course_id, archived=False, module__archived=False)
            .only("id", "kind", "slug", "title", "module_id", "position", "course_id")
            .order_by("position")
        )


class Membership(models.Model):
    """A student in a class."""

    class Via(models.TextChoices):
        CODE = "code", "Join code"
        LINK = "link", "Join link"
        CSV = "csv", "Added by an instructor"  # before invitations: kept for the rows made that way
        INVITATION = "invitation", "Accepted an invitation"
        LMS = "lms", "LMS roster"

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="class_memberships")
    via = models.CharField(max_length=10, choices=Via.choices)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["klass", "user"], name="classes_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.klass_id}"


class Invitation(models.Model):
    """An instructor's invitation to join a class as a student or to co-teach it; it takes effect when the invitee
    accepts it on their Classes page. `address` is what the instructor typed; `user` is the account it matched, or
    null when none did: such rows look the same to the instructor, so an invitation never tells whether an email
    or username has an account here."""

    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        INSTRUCTOR = "instructor", "Co-instructor"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    address = models.CharField(max_length=254, help_text="The username or email the instructor typed.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="class_invitations"
    )
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["klass", "role", "address"],
                condition=models.Q(status="pending"),
                name="classes_one_pending_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} invitation to {self.klass_id} for {self.address}"


class ClassModule(models.Model):
    """A module an instructor has opened for a paced class (no row: closed)."""

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="openings")
    module = models.ForeignKey("courseware.Module", on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["klass", "module"], name="classes_module_unique")]

    def __str__(self) -> str:
        return f"module {self.module_id} open in {self.klass_id}"


class HandRaise(models.Model):
    """A student asking for help; open until an instructor resolves it."""

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="hands")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["raised_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["klass", "user"], condition=models.Q(resolved_at__isnull=True), name="classes_one_open_hand"
            )
        ]

    def __str__(self) -> str:
        return f"hand of {self.user_id} in {self.klass_id}"


class ResetLog(models.Model):
    """An instructor reset a student's lab attempt or quiz attempts: who, whose, what, why, and what was there."""

    class Kind(models.TextChoices):
        LAB = "lab", "Lab attempt"
        QUIZ = "quiz", "Quiz attempts"

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="resets")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    item = models.ForeignKey("courseware.Item", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, help_text="A snapshot of what was reset (attempt numbers, scores).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} reset of {self.student_id} on {self.item_id}"


class Export(models.Model):
    """A gradebook CSV built by a Celery task; the file is kept in the row (a class's CSV is small)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    klass = models.ForeignKey(Class, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    nudged_at = models.DateTimeField(default=timezone.now, help_text="When a task message was last sent for it.")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker started building it.")
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    content = models.BinaryField(default=b"")
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.klass_id} ({self.status})"

    @property
    def filename(self) -> str:
        return f"gradebook-class-{self.klass_id}-{self.created_at:%Y%m%d-%H%M}.csv"
