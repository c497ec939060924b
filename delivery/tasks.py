"""Celery tasks of the delivery app: they take ids, re-read the row and call a service (idempotent)."""

from __future__ import annotations

from celery import shared_task

from delivery import handbooks

# Laying out a whole course takes longer than a lab run: its own limits, above the project's default.
HANDBOOK_SOFT_TIME_LIMIT = 240
HANDBOOK_TIME_LIMIT = 300


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=HANDBOOK_SOFT_TIME_LIMIT, time_limit=HANDBOOK_TIME_LIMIT
)
def build_handbook(handbook_id: int) -> None:
    """Build a handbook PDF; a second delivery of a claimed handbook does nothing."""
    handbooks.handbook_build(handbook_id)
