"""Gradebook: scores per item and totals; the CSV export (in the request for a small class, by a Celery task for a
large one, in batches with a constant number of queries); downloads for the class's instructors only; instructor
notes and answer keys."""

from __future__ import annotations

import csv
import io
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from classes import gradebook
from classes.models import Class, Export
from classes.seed import seed_class
from courseware import services as cw_services
from courseware.models import Course, Quiz

pytestmark = pytest.mark.django_db


def test_the_gradebook_shows_scores_and_totals(
    alice_in_class: Class, alice: User, course: Course, ian_client: Client
) -> None:
    quiz = Quiz.objects.get(item__course=course, item__slug="basics-quiz")
    attempt = cw_services.quiz_attempt_start(alice, quiz)
    cw_services.quiz_attempt_submit(attempt, {})
    columns = gradebook.gradebook_columns(alice_in_class)
    row = gradebook.gradebook_rows(alice_in_class, columns)[0]
    assert row.user == alice and row.max_points == sum(c.max_points for c in columns) > 0
    page = ian_client.get(reverse("classes:gradebook", args=[alice_in_class.pk])).content.decode()
    assert "Scores of every student" in page and "alice" in page and "Export the gradebook as CSV" in page


def test_a_small_class_exports_at_once_and_only_its_instructors_download(
    alice_in_class: Class, ian_client: Client, olga_client: Client, alice_client: Client
) -> None:
    response = ian_client.post(reverse("classes:export", args=[alice_in_class.pk]))
    assert response.status_code == 303
    export = Export.objects.get()
    assert export.status == Export.Status.READY and export.rows == 1
    url = reverse("classes:export_download", args=[alice_in_class.pk, export.pk])
    assert url in ian_client.get(reverse("classes:gradebook", args=[alice_in_class.pk])).content.decode()
    download = ian_client.get(url)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["username", "name", "email"] and rows[1][0] == "alice"
    assert olga_client.get(url).status_code == 404
    assert alice_client.get(url).status_code == 404


def test_a_large_class_is_exported_by_the_task_after_commit(
    course: Course,
    ian: User,
    ian_client: Client,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    klass = seed_class(course, 5, instructor=ian)
    monkeypatch.setattr(gradebook, "EXPORT_IN_REQUEST_LIMIT", 2)
    with (
        mock.patch("classes.tasks.build_gradebook_export.apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ian_client.post(reverse("classes:export", args=[klass.pk]))
    export = Export.objects.get()
    assert export.status == Export.Status.PENDING and send.call_args.args[0] == (export.pk,)
    page = ian_client.get(reverse("classes:gradebook", args=[klass.pk])).content.decode()
    assert "Waiting for a worker" in page and "every 3s" in page  # the list polls while the export is built
    from classes.tasks import build_gradebook_export

    build_gradebook_export(export.pk)
    build_gradebook_export(export.pk)  # a second delivery does nothing
    export.refresh_from_db()
    assert export.status == Export.Status.READY and export.rows == 5
    fragment = ian_client.get(reverse("classes:exports", args=[klass.pk])).content.decode()
    assert "Download CSV (5 students)" in fragment and "hx-trigger" not in fragment  # done: polling stops


def test_the_export_uses_a_constant_number_of_queries_per_batch(course: Course, ian: User) -> None:
    klass = seed_class(course, 120, instructor=ian)
    counts = []
    for batch in (20, 60):
        columns = gradebook.gradebook_columns(klass)
        with CaptureQueriesContext(connection) as queries:
            batches = list(gradebook.gradebook_batches(klass, columns, batch=batch))
        counts.append((len(batches), len(queries)))
    # 2 queries per batch (members with users, their progress), plus the empty read that ends the loop
    assert counts == [(6, 13), (2, 5)]


def test_csv_cells_that_look_like_formulas_are_neutralised(alice_in_class: Class, alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(first_name="=HYPERLINK(1)")
    content, rows = gradebook.gradebook_csv(alice_in_class)
    assert rows == 1 and "'=HYPERLINK(1)" in content.decode("utf-8-sig")


def test_instructor_notes_and_answer_keys_are_for_the_class_instructors(
    alice_in_class: Class, course: Course, ian_client: Client, olga_client: Client, alice_client: Client
) -> None:
    from labs.models import Lab

    Lab.objects.filter(item__course=course).update(answer_key_html="<p>KEY-io-trap-trace</p>")
    url = reverse("classes:notes", args=[alice_in_class.pk])
    page = ian_client.get(url).content.decode()
    assert "KEY-io-trap-trace" in page and "Lesson notes" in page and "css/print.css" in page
    assert olga_client.get(url).status_code == 404
    assert alice_client.get(url).status_code == 404


def test_a_lost_or_abandoned_export_is_resent_by_the_sweeper_and_built_once(
    course: Course, ian: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    klass = seed_class(course, 3, instructor=ian)
    lost = Export.objects.create(klass=klass, requested_by=ian, nudged_at=timezone.now() - timedelta(minutes=5))
    fresh = Export.objects.create(klass=klass, requested_by=ian)
    dead = Export.objects.create(
        klass=klass, requested_by=ian, status=Export.Status.RUNNING, claimed_at=timezone.now() - timedelta(minutes=30)
    )
    busy = Export.objects.create(klass=klass, requested_by=ian, status=Export.Status.RUNNING, claimed_at=timezone.now())
    with mock.patch("classes.tasks.build_gradebook_export.apply_async") as send:
        assert gradebook.exports_sweep() == 2
        assert gradebook.exports_sweep() == 1, "a re-sent pending export is not nudged again at once"
    assert sorted(call.args[0][0] for call in send.call_args_list) == sorted([lost.pk, dead.pk, dead.pk])
    assert gradebook.export_build(busy.pk) is None, "a fresh claim is not stolen"
    assert gradebook.export_build(fresh.pk) is not None
    assert gradebook.export_build(dead.pk) is not None, "a dead worker's export is taken over"
    dead.refresh_from_db()
    assert dead.status == Export.Status.READY and dead.rows == 3
