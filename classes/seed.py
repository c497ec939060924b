"""Build a realistic class for benchmarks, demos and tests: students with progress, quiz scores, lab attempts and
"check my work" runs (some failing in a row, some idle, some with every hint used, a few raised hands).

Deterministic for a given seed. Everything is written with bulk inserts, so 5,000 students take seconds.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from classes import services
from classes.models import Class, HandRaise, Membership
from courseware.models import Course, Item, Progress
from labs import engine
from labs.models import Lab, LabAttempt, LabRun

SEED_PASSWORD = "seed-password-123"  # noqa: S105 - demo accounts only; printed by the command


def seed_class(
    course: Course,
    students: int,
    instructor: User | None = None,
    prefix: str = "student",
    seed: int = 1,
    title: str = "",
) -> Class:
    """A class of `students` new students on `course`, taught by `instructor` (created if None)."""
    rng = random.Random(seed)
    now = timezone.now()
    password = make_password(SEED_PASSWORD)
    with transaction.atomic():
        if instructor is None:
            instructor, _ = User.objects.get_or_create(
                username=f"{prefix}-instructor",
                defaults={"role": User.Role.INSTRUCTOR, "password": password, "email": f"{prefix}@example.test"},
            )
        today = timezone.localdate()
        klass = services.class_create(
            instructor, course, title or f"{course.title} ({students} students)", today, today + timedelta(days=4)
        )
        start = User.objects.filter(username__startswith=f"{prefix}-").count()
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{prefix}-{start + n:05d}",
                    email=f"{prefix}-{start + n:05d}@example.test",
                    first_name=f"Student {start + n}",
                    password=password,
                )
                for n in range(students)
            ]
        )
        if not all(user.pk for user in users):  # backends without RETURNING: read the ids back
            users = list(User.objects.filter(username__in=[u.username for u in users]).order_by("pk"))
        Membership.objects.bulk_create([Membership(klass=klass, user=user, via=Membership.Via.CSV) for user in users])
        items = list(Item.objects.filter(course=course, archived=False, module__archived=False).order_by("position"))
        labs = {lab.item_id: lab for lab in Lab.objects.filter(item__course=course)}
        params = {item_id: engine.draw_params(lab.definition, 1) for item_id, lab in labs.items()}
        progress: list[Progress] = []
        attempts: list[tuple[LabAttempt, Lab, str]] = []
        for user in users:
            reached = rng.randint(0, len(items))
            for index, item in enumerate(items[:reached]):
                last = now - timedelta(minutes=rng.randint(1, 90))
                done = index < reached - 1 or rng.random() < 0.5
                score = None
                if item.kind != Item.Kind.LESSON and done:
                    score = float(rng.choice([40, 60, 70, 80, 90, 100]))
                if item.kind == Item.Kind.LAB and item.pk in labs:
                    lab = labs[item.pk]
                    # About half the room has finished the lab; the rest are at it, some of them stuck.
                    stuck = rng.choice(["failing", "idle", "hints", "working"])
                    mode = "completed" if done and rng.random() < 0.5 else stuck
                    hints = {}
                    if mode == "hints":
                        hints = {c["id"]: len(c.get("hints", [])) for c in lab.definition.get("checks", [])[:1]}
                    attempt = LabAttempt(
                        user=user, lab=lab, number=1, seed=1, params=params[item.pk], hints_used=hints,
                        status=LabAttempt.Status.COMPLETED if mode == "completed" else LabAttempt.Status.ACTIVE,
                        best_points=lab.max_points if mode == "completed" else 0,
                    )  # fmt: skip
                    attempts.append((attempt, lab, mode))
                    if mode != "completed":
                        continue  # an unfinished lab has no progress row until a check completes it
                progress.append(
                    Progress(
                        user=user, item=item, last_activity_at=last, attempts=1 if score is not None else 0,
                        status=Progress.Status.COMPLETED if done else Progress.Status.IN_PROGRESS,
                        score_percent=score, best_points=(score or 0) / 10, completed_at=last if done else None,
                    )
                )  # fmt: skip
        Progress.objects.bulk_create(progress, batch_size=2000)
        created = LabAttempt.objects.bulk_create([a for a, _, _ in attempts], batch_size=2000)
        if not all(a.pk for a in created):
            by_key = {(a.user_id, a.lab_id): a.pk for a in LabAttempt.objects.filter(lab__item__course=course)}
            for attempt in created:
                attempt.pk = by_key[(attempt.user_id, attempt.lab_id)]
        runs = []
        idle_attempts = []
        for attempt, lab, mode in attempts:
            failing = {"failing": 3, "idle": 1, "hints": 2, "working": 1, "completed": 0}[mode]
            for n in range(failing):
                runs.append(_check_run(attempt, lab, rng, now - timedelta(minutes=failing - n)))
            if mode == "completed":
                runs.append(_check_run(attempt, lab, rng, now - timedelta(minutes=5), passed=True))
            if mode == "idle":
                idle_attempts.append(attempt.pk)
        LabRun.objects.bulk_create(runs, batch_size=2000)
        # auto_now would have stamped every attempt "now": make the idle ones idle for a quarter of an hour.
        LabAttempt.objects.filter(pk__in=idle_attempts).update(last_activity_at=now - timedelta(minutes=15))
        # ... and let the lab be the last thing they touched, which is what makes them look stuck in it.
        Progress.objects.filter(
            user_id__in=LabAttempt.objects.filter(pk__in=idle_attempts).values("user_id"), item__course=course
        ).update(last_activity_at=now - timedelta(minutes=30))
        LabAttempt.objects.filter(lab__item__course=course).exclude(pk__in=idle_attempts).update(
            last_activity_at=now - timedelta(minutes=2)
        )
        raised = rng.sample(users, k=min(len(users), max(1, students // 50)))
        HandRaise.objects.bulk_create([HandRaise(klass=klass, user=user, note="Stuck on the lab") for user in raised])
    return klass


def _check_run(attempt: LabAttempt, lab: Lab, rng: random.Random, when: Any, passed: bool = False) -> LabRun:
    checks = []
    points = 0
    for check in lab.definition.get("checks", []):
        ok = passed or rng.random() < 0.6
        points += int(check.get("points", 1)) if ok else 0
        failure = engine.substitute(check.get("failure", ""), attempt.params) if not ok else ""
        checks.append(
            {
                "id": check["id"],
                "title": engine.substitute(check.get("title", check["id"]), attempt.params),
                "passed": ok,
                "points": int(check.get("points", 1)) if ok else 0,
                "max_points": int(check.get("points", 1)),
                "message": "Passed." if ok else f"Expected it; observed nothing. {failure}".strip(),
            }
        )
    run = LabRun(
        attempt=attempt,
        kind=LabRun.Kind.CHECK,
        upto_seq=0,
        status=LabRun.Status.PASSED if passed else LabRun.Status.FAILED,
        result={"checks": checks},
        message="seeded",
        points=points,
        finished_at=when,
    )
    return run
