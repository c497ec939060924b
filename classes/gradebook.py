"""The gradebook of a class (score per item and totals per student) and its CSV exports, built in the request for a
small class and by a Celery task otherwise (claimed once, re-sent by a sweeper when its message or worker is lost).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from classes.models import Class, Export, Membership
from courseware.models import Item, Progress, Quiz
from labs.models import Lab

logger = logging.getLogger(__name__)

# Gradebook exports: classes up to this size are built in the request; larger ones by a Celery task.
EXPORT_IN_REQUEST_LIMIT = 200
EXPORT_BATCH = 500

# --- Gradebook -------------------------------------------------------------------------------------------------


@dataclass
class GradeColumn:
    item: Item
    max_points: float


@dataclass
class GradeRow:
    user: User
    scores: list[str]
    points: float
    max_points: float
    completed: int

    @property
    def percent(self) -> float:
        return round(100 * self.points / self.max_points, 1) if self.max_points else 0.0


def gradebook_columns(klass: Class) -> list[GradeColumn]:
    """The course's items with the points each is worth (quizzes and labs; lessons count as completed or not)."""
    items = klass.live_items()
    quiz_points = dict(Quiz.objects.filter(item__course_id=klass.course_id).values_list("item_id", "max_points"))
    lab_points = dict(Lab.objects.filter(item__course_id=klass.course_id).values_list("item_id", "max_points"))
    return [GradeColumn(item, float(quiz_points.get(item.pk) or lab_points.get(item.pk) or 0)) for item in items]


def _grade_rows(columns: list[GradeColumn], users: list[User], course_id: int) -> list[GradeRow]:
    progress = {
        (user_id, item_id): (status, score, points)
        for user_id, item_id, status, score, points in Progress.objects.filter(
            user_id__in=[user.pk for user in users], item__course_id=course_id
        ).values_list("user_id", "item_id", "status", "score_percent", "best_points")
    }
    total_max = sum(column.max_points for column in columns)
    rows = []
    for user in users:
        scores, points, completed = [], 0.0, 0
        for column in columns:
            status, score, best = progress.get((user.pk, column.item.pk), ("not_started", None, 0.0))
            completed += status == "completed"
            if column.item.kind == Item.Kind.LESSON:
                scores.append("completed" if status == "completed" else "")
            else:
                scores.append("" if score is None else f"{score:g}")
                points += best or 0.0
        rows.append(GradeRow(user, scores, round(points, 2), total_max, completed))
    return rows


def gradebook_rows(klass: Class, columns: list[GradeColumn], only: User | None = None) -> list[GradeRow]:
    """One row per student (or only `only`'s row): score per item and totals (2 queries)."""
    members = Membership.objects.filter(klass=klass).select_related("user").order_by("user__username")
    if only is not None:
        members = members.filter(user=only)
    users = [membership.user for membership in members]
    return _grade_rows(columns, users, klass.course_id)


def gradebook_batches(klass: Class, columns: list[GradeColumn], batch: int = EXPORT_BATCH) -> Iterator[list[GradeRow]]:
    """Gradebook rows in batches of `batch` students, 2 queries per batch (keyset pagination on membership id)."""
    after = 0
    while True:
        members = list(
            Membership.objects.filter(klass=klass, pk__gt=after)
            .select_related("user")
            .only("id", "user__id", "user__username", "user__email", "user__first_name", "user__last_name")
            .order_by("pk")[:batch]
        )
        if not members:
            return
        after = members[-1].pk
        yield _grade_rows(columns, [m.user for m in members], klass.course_id)


def gradebook_csv(klass: Class) -> tuple[bytes, int]:
    """The class's gradebook as CSV bytes (UTF-8 with a BOM, for spreadsheets) and the number of student rows."""
    columns = gradebook_columns(klass)
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["username", "name", "email"]
    header += [f"{column.item.get_kind_display()}: {column.item.title}" for column in columns]
    header += ["completed items", "points", "max points", "percent"]
    writer.writerow(header)
    count = 0
    for rows in gradebook_batches(klass, columns):
        for row in rows:
            writer.writerow(
                [_csv_safe(row.user.username), _csv_safe(row.user.get_full_name()), _csv_safe(row.user.email)]
                + row.scores
                + [row.completed, f"{row.points:g}", f"{row.max_points:g}", f"{row.percent:g}"]
            )
            count += 1
    return ("\ufeff" + out.getvalue()).encode(), count


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (CSV injection): quote it as text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_request(klass: Class, user: User) -> Export:
    """Create an export; build it now for a small class, otherwise enqueue the Celery task after commit."""
    export = Export.objects.create(klass=klass, requested_by=user)
    if Membership.objects.filter(klass=klass).count() <= EXPORT_IN_REQUEST_LIMIT:
        export_build(export.pk)
        export.refresh_from_db()
        return export
    transaction.on_commit(lambda: _export_send(export.pk))
    return export


def _export_send(export_id: int) -> None:
    from django.conf import settings

    from classes.tasks import build_gradebook_export

    try:
        build_gradebook_export.apply_async((export_id,), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    except Exception:  # noqa: BLE001 - a broker outage must not lose the export: the sweeper re-sends it
        logger.warning("could not enqueue export %s; the sweeper will re-send it", export_id, exc_info=True)


EXPORT_PENDING_SECONDS = 60
"""A pending export whose message is older than this is re-sent by the sweeper."""
EXPORT_STALE_SECONDS = 300
"""A running export claimed longer ago than this lost its worker: another worker may take it over."""


def export_build(export_id: int, now: datetime | None = None) -> Export | None:
    """Build export `export_id` once (claimed with a conditional update); None if it was already claimed."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=EXPORT_STALE_SECONDS)
    claimed = Export.objects.filter(
        Q(status=Export.Status.PENDING) | Q(status=Export.Status.RUNNING, claimed_at__lt=stale_before), pk=export_id
    ).update(status=Export.Status.RUNNING, claimed_at=now)
    if not claimed:
        return None
    export = Export.objects.select_related("klass").get(pk=export_id)
    try:
        content, rows = gradebook_csv(export.klass)
    except Exception as exc:  # noqa: BLE001 - recorded on the row for the instructor, then re-raised for the log
        Export.objects.filter(pk=export_id).update(
            status=Export.Status.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    Export.objects.filter(pk=export_id).update(
        status=Export.Status.READY, content=content, rows=rows, finished_at=timezone.now()
    )
    return export


def exports_sweep(now: datetime | None = None) -> int:
    """Re-send exports whose message was lost or whose worker died; returns how many were re-sent."""
    now = now or timezone.now()
    pending_before = now - timedelta(seconds=EXPORT_PENDING_SECONDS)
    stale_before = now - timedelta(seconds=EXPORT_STALE_SECONDS)
    resent = 0
    for export_id in list(
        Export.objects.filter(status=Export.Status.PENDING, nudged_at__lt=pending_before).values_list("pk", flat=True)[
            :100
        ]
    ):
        if Export.objects.filter(pk=export_id, status=Export.Status.PENDING, nudged_at__lt=pending_before).update(
            nudged_at=now
        ):
            _export_send(export_id)
            resent += 1
    for export_id in list(
        Export.objects.filter(status=Export.Status.RUNNING, claimed_at__lt=stale_before).values_list("pk", flat=True)[
            :100
        ]
    ):
        _export_send(export_id)
        resent += 1
    return resent
