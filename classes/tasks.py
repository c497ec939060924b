"""Celery tasks of the classes app: they take ids, re-read the row and call a service (idempotent)."""

from __future__ import annotations

from celery import shared_task

from classes import gradebook


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_gradebook_export(export_id: int) -> None:
    """Build a gradebook CSV; a second delivery of a claimed export does nothing."""
    gradebook.export_build(export_id)


@shared_task
def sweep_gradebook_exports() -> int:
    """Re-send exports whose message was lost or whose worker died (scheduled by beat)."""
    return gradebook.exports_sweep()
