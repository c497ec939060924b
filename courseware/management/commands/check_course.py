"""Validate a course folder and list every problem at once, each as file:line: message."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courseware import services


class Command(BaseCommand):
    help = "Validate a course folder (docs/course-format.md) and report every problem with file and line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the course folder, containing course.yaml")
        parser.add_argument("--json", action="store_true", help="print a JSON summary: counts and problems")

    def handle(self, *args: Any, **options: Any) -> None:
        spec, problems = services.course_check(options["path"])
        if options["json"]:
            summary = {
                "ok": not problems,
                "course": spec.slug if spec else None,
                "version": spec.version if spec else None,
                "counts": spec.counts() if spec else {},
                "problems": [problem.as_dict() for problem in problems],
            }
            self.stdout.write(json.dumps(summary, indent=2))
        else:
            for problem in problems:
                self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found in {options['path']}")
        if not options["json"] and spec is not None:
            counts = ", ".join(f"{value} {name}" for name, value in spec.counts().items())
            self.stdout.write(self.style.SUCCESS(f"{spec.slug} {spec.version}: OK ({counts})"))
