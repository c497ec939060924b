"""Classroom delivery rows: printed handbooks built by a Celery task, and certificates of completion."""

from __future__ import annotations

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
