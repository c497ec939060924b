"""manage.py seed_class --students N [--course SLUG]: a realistic class for benchmarks and demos."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classes.seed import SEED_PASSWORD, seed_class
from courseware.models import Course


class Command(BaseCommand):
    help = "Create a class of N new students with progress, quiz scores, lab attempts and check runs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=30, help="How many students (default 30).")
        parser.add_argument("--course", help="Course slug (default: the first course that has labs).")
        parser.add_argument("--prefix", default="student", help="Username prefix of the new accounts.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (the same seed, the same class).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["students"] < 1:
            raise CommandError("--students must be at least 1.")
        if options["course"]:
            course = Course.objects.filter(slug=options["course"]).first()
            if course is None:
                raise CommandError(f"No course {options['course']!r}: load one with manage.py load_course PATH.")
        else:
            course = Course.objects.filter(items__kind="lab").distinct().first() or Course.objects.first()
            if course is None:
                raise CommandError("No course is loaded: run manage.py load_course PATH first.")
        klass = seed_class(course, options["students"], prefix=options["prefix"], seed=options["seed"])
        instructor = klass.instructors.first()
        self.stdout.write(
            f"Class {klass.pk} '{klass.title}' on {course.slug}: {options['students']} students, join code "
            f"{klass.join_code}.\nInstructor: {instructor.username if instructor else '?'} / {SEED_PASSWORD}; "
            f"students {options['prefix']}-NNNNN / {SEED_PASSWORD}. Dashboard: /classes/{klass.pk}/"
        )
