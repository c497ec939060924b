"""Assignment and Grade Services: scores go back to the LMS gradebook.

A score change (a quiz submitted, a lab check scored) writes one ScoreOutbox row per LMS link the learner launched
for that item, inside the transaction that records the change (the courseware and labs signals are sent there), so
a change is never lost. The row is sent after commit by a Celery task, in id order per learner and link (one sender
at a time, claimed with a conditional UPDATE); a failure (the LMS is down) leaves the row pending with a back-off
and the task retries; a sweeper re-sends rows whose nudge was lost. A row is marked sent once; each carries the
timestamp of its change, which the LMS uses to ignore a repeat (AGS 2.0, 3.4 "timestamp") should a worker die
between the LMS's answer and our update.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import requests
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from courseware.models import Item
from labs.models import LabAttempt
from lti import tool
from lti.models import LinkLearner, Platform, ResourceLink, ScoreOutbox

logger = logging.getLogger(__name__)

CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NUDGE_GRACE = timedelta(seconds=30)
SENDER_STALE = timedelta(minutes=5)  # a sender that held a learner's queue this long has died
BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600)  # then every hour, for ever: a score is never dropped
# HTTP answers that will not change on a retry: the LMS refused this score (the row is kept, marked rejected).
PERMANENT_STATUSES = frozenset({400, 404, 405, 410, 413, 422})


def link_record(
    platform: Platform, claims: dict[str, Any], item: Item | None, user: Any, grade: bool = True
) -> LinkLearner | None:
    """Remember the link a learner launched and its AGS endpoints; returns the learner's grade route, if any.

    Only quizzes and labs are graded, only learners' scores (grade=False for instructors), and only when the
    platform lets us post scores.
    """
    from lti import services

    resource_link = claims.get(services.CLAIM_RESOURCE_LINK) or {}
    endpoint = claims.get(CLAIM_AGS) or {}
    link_id = str(resource_link.get("id", ""))[:255]
    if not link_id:
        return None
    scopes = endpoint.get("scope") if isinstance(endpoint.get("scope"), list) else []
    defaults = {
        "context_id": str((claims.get(services.CLAIM_CONTEXT) or {}).get("id", ""))[:255],
        "item": item,
        "ags_scopes": scopes,
        "lineitems_url": str(endpoint.get("lineitems") or "")[:500],
        "updated_at": timezone.now(),
    }
    if endpoint.get("lineitem"):
        defaults["lineitem_url"] = str(endpoint["lineitem"])[:500]
    link, _ = ResourceLink.objects.update_or_create(
        platform=platform,
        deployment_id=str(claims.get(services.CLAIM_DEPLOYMENT, ""))[:200],
        resource_link_id=link_id,
        defaults=defaults,
    )
    if not grade or item is None or item.kind == Item.Kind.LESSON or SCOPE_SCORE not in scopes:
        return None
    if not (link.lineitem_url or link.lineitems_url):
        return None
    learner, _ = LinkLearner.objects.get_or_create(link=link, user=user, defaults={"subject": str(claims["sub"])})
    return learner


# --- Receivers of the lower apps' signals (connected in LtiConfig.ready) -----------------------------------------


def on_quiz_submitted(sender: Any, attempt: Any, progress: Any, submitted_at: datetime, **kwargs: Any) -> None:
    scores_enqueue(
        user_id=attempt.user_id,
        item_id=progress.item_id,
        change=f"quiz-attempt:{attempt.pk}",
        given=progress.best_points,
        maximum=attempt.quiz.max_points,
        completed=True,
        timestamp=submitted_at,
    )


def on_lab_check_scored(sender: Any, run: Any, points: float, passed: bool, **kwargs: Any) -> None:
    attempt = run.attempt
    lab = attempt.lab
    learners = _learners(attempt.user_id, lab.item_id)
    if not learners:
        return
    # The learner's best over every attempt of the lab (a reset starts a new attempt; the LMS keeps the best).
    best = LabAttempt.objects.filter(user_id=attempt.user_id, lab_id=lab.pk).aggregate(best=Max("best_points"))["best"]
    finished = passed or LabAttempt.objects.filter(
        user_id=attempt.user_id, lab_id=lab.pk, status=LabAttempt.Status.COMPLETED
    ).exists()
    scores_enqueue(
        user_id=attempt.user_id,
        item_id=lab.item_id,
        change=f"lab-run:{run.pk}",
        given=max(best or 0, points),
        maximum=lab.max_points,
        completed=finished,
        timestamp=timezone.now(),
        learners=learners,
    )


def _learners(user_id: int, item_id: int) -> list[int]:
    return list(LinkLearner.objects.filter(user_id=user_id, link__item_id=item_id).values_list("pk", flat=True))


def scores_enqueue(
    *,
    user_id: int,
    item_id: int,
    change: str,
    given: float,
    maximum: float,
    completed: bool,
    timestamp: datetime,
    learners: list[int] | None = None,
) -> int:
    """Write the outbox rows of one score change (one per LMS link of the item the learner launched); the send is
    enqueued on commit. Returns how many rows were written (0 for a learner who never came through an LMS)."""
    learners = _learners(user_id, item_id) if learners is None else learners
    if not learners:
        return 0
    if maximum <= 0:  # an ungraded lab: completion is the score
        given, maximum = (1.0 if completed else 0.0), 1.0
    rows = [
        ScoreOutbox(
            learner_id=learner_id,
            change=change,
            score_given=float(min(max(given, 0.0), maximum)),
            score_maximum=float(maximum),
            activity_progress="Completed" if completed else "InProgress",
            timestamp=timestamp,
        )
        for learner_id in learners
    ]
    ScoreOutbox.objects.bulk_create(rows, ignore_conflicts=True)  # the same change twice is written once
    for learner_id in learners:
        transaction.on_commit(lambda learner_id=learner_id: _nudge(learner_id))
    return len(rows)


def _nudge(learner_id: int) -> None:
    from lti.tasks import send_scores

    try:
        send_scores.delay(learner_id)
    except Exception:  # noqa: BLE001 - the broker is down: the sweeper sends the rows later
        logger.warning("could not enqueue LTI score send for learner link %s; the sweeper will", learner_id)


# --- Sending ------------------------------------------------------------------------------------------------------


class _Retry(Exception):
    pass


def _backoff(attempts: int) -> int:
    return BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]


def _post(row: ScoreOutbox) -> None:
    learner = row.learner
    link = learner.link
    ags = AssignmentsGradesService(
        tool.service_connector(link.platform),
        {"scope": link.ags_scopes, "lineitems": link.lineitems_url, "lineitem": link.lineitem_url},  # type: ignore[typeddict-item]
    )
    grade = (
        Grade()
        .set_score_given(row.score_given)
        .set_score_maximum(row.score_maximum)
        .set_activity_progress(row.activity_progress)
        .set_grading_progress(row.grading_progress)
        .set_timestamp(row.timestamp.isoformat())
        .set_user_id(learner.subject)
    )
    if not link.lineitem_url:
        # Links added without deep linking have no line item: find ours by resource link, or create it.
        item = link.item
        wanted = (
            LineItem()
            .set_resource_link_id(link.resource_link_id)
            .set_label(item.title if item else "Hyper-V Lab")
            .set_tag(item.kind if item else "hvlab")
            .set_score_maximum(row.score_maximum)
        )
        found = ags.find_or_create_lineitem(wanted, find_by="resource_link_id")
        link.lineitem_url = found.get_id() or ""
        ResourceLink.objects.filter(pk=link.pk).update(lineitem_url=link.lineitem_url)
        ags = AssignmentsGradesService(
            ags._service_connector,  # noqa: SLF001 - the same connector, its token cached
            {"scope": link.ags_scopes, "lineitems": link.lineitems_url, "lineitem": link.lineitem_url},  # type: ignore[typeddict-item]
        )
    ags.put_grade(grade)


def scores_send(learner_id: int, now: datetime | None = None) -> int | None:
    """Send a learner's pending scores for one link, oldest first; returns seconds until a retry is due, or None.

    A row that fails to send stops the queue (later rows wait, so the LMS sees changes in order).
    """
    now = now or timezone.now()
    lease = uuid.uuid4()
    free = Q(sending_lease__isnull=True) | Q(sending_since__lt=now - SENDER_STALE)
    if not LinkLearner.objects.filter(free, pk=learner_id).update(sending_lease=lease, sending_since=now):
        return None  # another sender holds this queue; it sends these rows too
    try:
        pending = ScoreOutbox.objects.filter(learner_id=learner_id, status=ScoreOutbox.Status.PENDING)
        pending = pending.select_related("learner__link__platform", "learner__link__item").order_by("id")
        while True:  # again after each batch: rows written while we were sending are sent by us too
            rows = list(pending[:100])
            if not rows:
                return None
            for row in rows:
                if row.next_attempt_at > now:
                    return max(int((row.next_attempt_at - now).total_seconds()), 1)
                try:
                    _post(row)
                except LtiServiceException as error:
                    if error.response.status_code in PERMANENT_STATUSES:
                        _reject(row, f"The LMS refused the score: {error}")
                        continue
                    return _defer(row, now, str(error))
                except (LtiException, requests.RequestException) as error:
                    return _defer(row, now, str(error))
                ScoreOutbox.objects.filter(pk=row.pk, status=ScoreOutbox.Status.PENDING).update(
                    status=ScoreOutbox.Status.SENT, sent_at=timezone.now(), attempts=row.attempts + 1, last_error=""
                )
    finally:
        LinkLearner.objects.filter(pk=learner_id, sending_lease=lease).update(sending_lease=None, sending_since=None)


def _defer(row: ScoreOutbox, now: datetime, error: str) -> int:
    attempts = row.attempts + 1
    delay = _backoff(attempts)
    ScoreOutbox.objects.filter(pk=row.pk).update(
        attempts=attempts, next_attempt_at=now + timedelta(seconds=delay), last_error=error[:2000]
    )
    logger.info("LTI score %s not sent (attempt %s), retry in %s s: %s", row.pk, attempts, delay, error)
    return delay


def _reject(row: ScoreOutbox, error: str) -> None:
    ScoreOutbox.objects.filter(pk=row.pk).update(
        status=ScoreOutbox.Status.REJECTED, attempts=row.attempts + 1, last_error=error[:2000]
    )
    logger.warning("LTI score %s rejected: %s", row.pk, error)


def scores_sweep(now: datetime | None = None) -> int:
    """Nudge every learner queue with a row due (its nudge lost, or its retry time come); returns how many."""
    from lti.tasks import send_scores

    now = now or timezone.now()
    due = (
        ScoreOutbox.objects.filter(status=ScoreOutbox.Status.PENDING)
        # A fresh row's own nudge is on its way; a retried row is due at its next_attempt_at.
        .filter(Q(attempts=0, created_at__lt=now - NUDGE_GRACE) | Q(attempts__gt=0, next_attempt_at__lte=now))
        .filter(Q(learner__sending_lease__isnull=True) | Q(learner__sending_since__lt=now - SENDER_STALE))
        .order_by()
        .values_list("learner_id", flat=True)
        .distinct()
    )
    learner_ids = list(due[:500])
    for learner_id in learner_ids:
        send_scores.delay(learner_id)
    return len(learner_ids)
