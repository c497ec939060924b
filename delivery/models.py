"""Classroom delivery rows: printed handbooks built by a Celery task, and certificates of completion."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Handbook(models.Model):
    """A course's student or instructor handbook as PDF, built once per course version (the PDF is kept in the row)."""

    class Kind(models.TextChoices):
        STUDENT = "student", "Student handbook"
        INSTRUCTOR = "instructor", "Instructor handbook"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    course = models.ForeignKey("courseware.Course", on_delete=models.CASCADE, related_name="handbooks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    course_version = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, 0-100.")
    stage = models.CharField(max_length=200, blank=True, help_text="What the worker is doing, for the progress bar.")
    pages = models.PositiveIntegerField(default=0)
    content = models.BinaryField(default=b"")
    size = models.PositiveIntegerField(default=0, help_text="Bytes of the PDF.")
    error = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    nudged_at = models.DateTimeField(default=timezone.now, help_text="When a task message was last sent for it.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "kind", "course_version"], name="delivery_handbook_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.course_id} {self.kind} {self.course_version} ({self.status})"

    @property
    def filename(self) -> str:
        return f"{self.course.slug}-{self.kind}-handbook-{self.course_version}.pdf"


def new_certificate_code() -> str:
    """128 random bits, URL-safe: the only key to a certificate's public verification page."""
    return secrets.token_urlsafe(16)


class CertificateRule(models.Model):
    """What a class's trainer requires for a certificate; a class without a row requires everything."""

    klass = models.OneToOneField("classes.Class", on_delete=models.CASCADE, related_name="certificate_rule")
    require_lessons = models.BooleanField(default=True, help_text="Every lesson read (marked complete).")
    require_quizzes = models.BooleanField(default=True, help_text="Every quiz passed.")
    require_labs = models.BooleanField(default=True, help_text="Every lab passed.")

    def __str__(self) -> str:
        return f"certificate rule of {self.klass_id}"


class Certificate(models.Model):
    """Proof that a learner completed a course, or a course in a class. What it says is copied at issue, so the
    certificate and its verification page never change when a name or a title does; revoked, it stays on record."""

    code = models.CharField(max_length=32, unique=True, default=new_certificate_code)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates")
    course = models.ForeignKey("courseware.Course", on_delete=models.CASCADE, related_name="certificates")
    klass = models.ForeignKey(
        "classes.Class", null=True, blank=True, on_delete=models.SET_NULL, related_name="certificates"
    )
    learner_name = models.CharField(max_length=300)
    course_title = models.CharField(max_length=200)
    course_version = models.CharField(max_length=50)
    class_title = models.CharField(max_length=200, blank=True)
    trainer_name = models.CharField(max_length=300, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The trainer who issued it; empty when the learner claimed it on completion.",
    )  # fmt: skip
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=models.Q(klass__isnull=True, revoked_at__isnull=True),
                name="delivery_one_live_course_certificate",
            ),
            models.UniqueConstraint(
                fields=["user", "klass"],
                condition=models.Q(klass__isnull=False, revoked_at__isnull=True),
                name="delivery_one_live_class_certificate",
            ),
        ]

    def __str__(self) -> str:
        return f"certificate {self.pk} of {self.user_id} for {self.course_id}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
