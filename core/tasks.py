from __future__ import annotations

from typing import Any

from celery import shared_task

from core.services import worker_heartbeat_record


@shared_task(bind=True)
def worker_heartbeat(self: Any) -> None:
    """Record that the worker that ran this is alive (scheduled every minute by beat)."""
    worker_heartbeat_record(self.request.hostname or "unknown")


@shared_task
def noop() -> None:
    """Does nothing: the baseline for task round-trip benchmarks."""
