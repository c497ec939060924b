"""Validate a course folder, then upsert it by stable slugs in one transaction (nothing is written on a problem)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courseware import services


class Command(BaseCommand):
    help = "Load (or re-load) a course folder; archived items keep their learners' progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the course folder, containing course.yaml")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = services.course_load(options["path"])
        except services.CourseInvalidError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(error.problems)} problem(s) found; nothing was loaded") from None
        course = report.course
        verb = "Created" if report.created else f"Updated (was {report.previous_version})"
        counts = ", ".join(f"{value} {name}" for name, value in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"{verb} {course.slug} {course.version}: {counts}"))
        if report.archived_items:
            self.stdout.write(f"Archived (progress kept): {', '.join(report.archived_items)}")
