from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person on the platform: a student by default; instructors run classes; staff (is_staff) use the admin."""

    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        INSTRUCTOR = "instructor", "Instructor"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STUDENT)

    @property
    def is_instructor(self) -> bool:
        """Instructors and staff may use instructor pages."""
        return self.role == self.Role.INSTRUCTOR or self.is_staff

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
