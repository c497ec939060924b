"""Carry partial lab points recorded before one lab score existed into each learner's progress row.

Until now only a passed check reached Progress, so a learner with "best 2 of 10 points" showed no score on My
progress, the dashboard or the gradebook. The rule is now: the best check over all attempts, partial points
counted (courseware.services.progress_record_lab_check). This applies it to the attempts already recorded.
"""

from django.db import migrations


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    LabAttempt = apps.get_model("labs", "LabAttempt")
    Progress = apps.get_model("courseware", "Progress")
    best: dict[tuple[int, int], tuple[float, float, object]] = {}
    attempts = LabAttempt.objects.filter(best_points__gt=0).select_related("lab").order_by("pk")
    for attempt in attempts.iterator(chunk_size=500):
        max_points = attempt.lab.max_points
        points = min(float(attempt.best_points), float(max_points))
        percent = 100.0 if max_points == 0 else round(100.0 * points / max_points, 2)
        key = (attempt.user_id, attempt.lab.item_id)
        if key not in best or percent > best[key][0]:
            best[key] = (percent, points, attempt.last_activity_at)
    for (user_id, item_id), (percent, points, when) in best.items():
        progress = Progress.objects.filter(user_id=user_id, item_id=item_id).first()
        if progress is None:
            Progress.objects.create(
                user_id=user_id,
                item_id=item_id,
                status="in_progress",
                score_percent=percent,
                best_points=points,
                last_activity_at=when,
            )
        elif progress.score_percent is None or percent > progress.score_percent:
            progress.score_percent = percent
            progress.best_points = points
            if progress.status == "not_started":
                progress.status = "in_progress"
            progress.save(update_fields=["score_percent", "best_points", "status"])


class Migration(migrations.Migration):
    dependencies = [
        ("labs", "0002_run_budget_and_fair_order"),
        ("courseware", "0004_quiz_attempt_archive"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
