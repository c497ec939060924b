"""Prove a lab solvable: run its `solve` lines through the learner pipeline as a throwaway learner."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from labs import console, engine, services
from labs.models import Lab, LabRun


class Command(BaseCommand):
    help = "Run a lab's solve lines as a throwaway learner (console -> action log -> runs) and print every check."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug", help="The lab's slug, e.g. io-trap-trace")
        parser.add_argument("--course", help="The course slug, when several courses have a lab of that slug")
        parser.add_argument("--seed", type=int, default=None, help="Use this attempt seed (default: a random one)")

    def handle(self, *args: Any, **options: Any) -> None:
        labs = Lab.objects.select_related("item__course").filter(item__slug=options["slug"], item__archived=False)
        if options["course"]:
            labs = labs.filter(item__course__slug=options["course"])
        found = list(labs)
        if not found:
            raise CommandError(f"No loaded lab '{options['slug']}'. Load its course first: manage.py load_course PATH")
        if len(found) > 1:
            raise CommandError("Several courses have this lab: name one with --course")
        lab = found[0]
        with transaction.atomic():
            ok = self._solve(lab, options["seed"])
            transaction.set_rollback(True)  # the throwaway learner and their runs leave no trace
        if not ok:
            raise CommandError(f"{lab.item.slug}: not every check passes with the solve lines")

    def _solve(self, lab: Lab, seed: int | None) -> bool:
        learner = User.objects.create(username=f"lab-solve-{uuid.uuid4().hex[:10]}", is_active=False)
        attempt = services.lab_attempt_current(learner, lab)
        if seed is not None:
            attempt = services.lab_attempt_reset(attempt, "lab_solve seed", seed=seed)
        self.stdout.write(f"{lab.item.slug}: seed {attempt.seed}, variants {attempt.params}")
        for line in lab.definition.get("solve", []):
            text = engine.substitute(line, attempt.params)
            try:
                commands = console.parse(text)
                console.check_offered(commands, lab.definition.get("console") or [])
            except console.ConsoleError as exc:
                self.stdout.write(f"  ✖ {text}: {exc}")
                return False
            for command in commands:
                if command.action is None:
                    continue
                run = services.lab_action_submit(attempt, command.source, command.action, uuid.uuid4()).run
                run = services.lab_run_execute(run.pk) or LabRun.objects.get(pk=run.pk)
                mark = "✔" if run.status == LabRun.Status.PASSED else "✖"
                self.stdout.write(f"  {mark} {text}  → {run.message}")
        check = services.lab_check_submit(attempt, uuid.uuid4()).run
        check = services.lab_run_execute(check.pk) or LabRun.objects.get(pk=check.pk)
        for result in check.result.get("checks", []):
            mark = "✔" if result["passed"] else "✖"
            self.stdout.write(
                f"  {mark} {result['id']}: {result['points']}/{result['max_points']}  {result['message']}"
            )
        self.stdout.write(f"{lab.item.slug}: {check.get_status_display()}: {check.message}")
        return check.status == LabRun.Status.PASSED
