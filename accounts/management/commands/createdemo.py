"""Create a demo instructor and a demo student for trying the platform locally (refused unless DEBUG)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User

DEMO_USERS = (
    ("demo-instructor", User.Role.INSTRUCTOR, "Dana", "Instructor"),
    ("demo-student", User.Role.STUDENT, "Sam", "Student"),
)


class Command(BaseCommand):
    help = "Create (or reset) a demo instructor and a demo student and print their credentials. DEBUG only."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", help="Use this password for both accounts instead of a random one.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("createdemo is refused when DEBUG=0: demo accounts must never exist in production.")
        password = options["password"] or secrets.token_urlsafe(9)
        for username, role, first, last in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            user.role = role
            user.first_name, user.last_name = first, last
            user.email = f"{username}@example.invalid"
            user.set_password(password)
            user.save()
            verb = "Created" if created else "Reset"
            self.stdout.write(f"{verb} {role:<10} username: {username:<16} password: {password}")
        self.stdout.write(
            "The password is shown here only (it is not stored anywhere readable): note it, or run createdemo again "
            "(or with --password) to set a new one."
        )
