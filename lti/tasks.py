from __future__ import annotations

from celery import shared_task

from lti import services


@shared_task
def purge_used_nonces() -> int:
    """Forget replay-protection nonces whose tokens have expired anyway (scheduled hourly by beat)."""
    return services.nonces_purge()
