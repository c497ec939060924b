from __future__ import annotations

from typing import Any

from celery import shared_task

from lti import ags, nrps, services


@shared_task
def purge_used_nonces() -> int:
    """Forget replay-protection nonces whose tokens have expired anyway (scheduled hourly by beat)."""
    return services.nonces_purge()


@shared_task(bind=True, max_retries=None)
def send_scores(self: Any, learner_id: int) -> None:
    """Send a learner's pending scores for one LMS link, in order; retried with back-off while the LMS is down."""
    retry_in = ags.scores_send(learner_id)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task
def sweep_scores() -> int:
    """Re-send score rows whose nudge was lost or whose retry is due (scheduled every minute by beat)."""
    return ags.scores_sweep()


@shared_task
def sync_roster(lms_class_id: int) -> None:
    """Bring an LMS class's members up to date from the platform's NRPS (on an instructor's launch or request)."""
    nrps.roster_sync(lms_class_id)


@shared_task
def sync_all_rosters() -> int:
    """Sync every LMS class's roster (scheduled daily by beat)."""
    return nrps.rosters_sync_all()
