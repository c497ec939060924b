from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from core.services import worker_heartbeat_record


@shared_task(bind=True)
def worker_heartbeat(self: Any) -> None:
    """Record that the worker that ran this is alive (scheduled every minute by beat)."""
    worker_heartbeat_record(self.request.hostname or "unknown")


@worker_ready.connect
def _beat_when_ready(sender: Any = None, **kwargs: Any) -> None:
    """A worker shows up in /healthz as soon as it is ready, not a minute later."""
    worker_heartbeat_record(getattr(sender, "hostname", None) or "unknown")


@shared_task
def noop() -> None:
    """Does nothing: the baseline for task round-trip benchmarks."""
