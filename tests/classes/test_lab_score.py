"""One definition of a lab's score (issue 11): the best "Check my work" over all attempts, partial points counted.
The lab page, My progress, the outline, the class dashboard, the drill-down, the gradebook and its CSV agree."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from classes.gradebook import gradebook_columns, gradebook_csv, gradebook_rows
from classes.models import Class
from courseware.models import Progress
from labs import services
from labs.models import Lab, LabRun

pytestmark = pytest.mark.django_db


def _partial_check(alice: Any, lab: Lab) -> LabRun:
    """Run the emulated write (one check's worth) and check: a failed check with some of the lab's points."""
    attempt = services.lab_attempt_current(alice, lab)
    vm = attempt.params["legacy_vm"]
    action = {"op": "io", "vm": vm, "op_kind": "write", "bytes": 102400}
    submission = services.lab_action_submit(attempt, f"io write 100KB on {vm}", action, uuid.uuid4())
    services.lab_run_execute(submission.run.pk)
    run = services.lab_run_execute(services.lab_check_submit(attempt, uuid.uuid4()).run.pk)
    assert run is not None and run.status == "failed" and 0 < run.points < lab.max_points, (run.status, run.points)
    return run


def test_partial_points_are_the_same_score_on_every_page(
    alice_in_class: Class,
    alice: Any,
    alice_client: Client,
    ian_client: Client,
) -> None:
    klass = alice_in_class
    lab = Lab.objects.get(item__course=klass.course, item__slug="io-trap-trace")
    run = _partial_check(alice, lab)
    points, max_points = run.points, lab.max_points
    percent = round(100 * points / max_points)
    progress = Progress.objects.get(user=alice, item=lab.item)
    assert (progress.best_points, progress.status) == (points, "in_progress")

    expected = f"best {points} of {max_points} points"
    lab_page = alice_client.get(reverse("labs:lab", args=[klass.course.slug, "io-trap-trace"])).content.decode()
    assert expected in lab_page
    my_progress = alice_client.get(reverse("courseware:my_progress")).content.decode()
    assert expected in my_progress and "1 check" in my_progress
    outline = alice_client.get(reverse("courseware:outline", args=[klass.course.slug])).content.decode()
    assert f"best {percent}%" in outline
    dashboard = ian_client.get(reverse("classes:detail", args=[klass.pk])).content.decode()
    assert f"{percent}%" in dashboard
    drill = ian_client.get(reverse("classes:student", args=[klass.pk, alice.pk])).content.decode()
    assert f"{percent}%" in drill
    gradebook = ian_client.get(reverse("classes:gradebook", args=[klass.pk])).content.decode()
    assert f"{points} of " in gradebook
    columns = gradebook_columns(klass)
    (row,) = gradebook_rows(klass, columns)
    assert row.points == points
    data, _ = gradebook_csv(klass)
    lines = data.decode("utf-8-sig").splitlines()
    header, alice_line = lines[0].split(","), lines[1].split(",")
    assert alice_line[header.index("points")] == f"{points:g}"
    assert alice_line[header.index("Lab: " + lab.item.title)] == f"{round(100 * points / max_points, 2):g}"


def test_a_better_check_in_a_later_attempt_is_the_score_and_a_worse_one_is_not(alice: Any, course: Any) -> None:
    lab = Lab.objects.get(item__course=course, item__slug="io-trap-trace")
    run = _partial_check(alice, lab)
    attempt = run.attempt
    services.lab_attempt_reset(attempt)
    fresh = services.lab_attempt_current(alice, lab)
    services.lab_run_execute(services.lab_check_submit(fresh, uuid.uuid4()).run.pk)  # nothing done: 0 points
    progress = Progress.objects.get(user=alice, item=lab.item)
    assert (progress.best_points, progress.attempts) == (run.points, 2)
