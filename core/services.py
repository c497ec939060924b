"""Health of the moving parts: database, broker, workers."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from core.models import WorkerHeartbeat


def worker_heartbeat_record(hostname: str, now: datetime | None = None) -> WorkerHeartbeat:
    """Record that the worker `hostname` is alive now; returns the updated row."""
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(seen_at=now, beats=F("beats") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(hostname=hostname, defaults={"seen_at": now, "beats": 1})
    return WorkerHeartbeat.objects.get(hostname=hostname)


def database_status() -> dict[str, object]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported, never raised
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def broker_status(timeout_s: float = 2.0) -> dict[str, object]:
    from config.celery import app

    transport = app.conf.broker_url.split("://", 1)[0]
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout_s)
            conn.default_channel  # noqa: B018 - opening a channel proves the transport works
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": transport, "error": type(exc).__name__}
    return {"ok": True, "transport": transport}


def workers_status(now: datetime | None = None) -> dict[str, object]:
    """How long ago each worker last beat, in seconds (informational; workers may legitimately be scaled to 0)."""
    now = now or timezone.now()
    rows = WorkerHeartbeat.objects.order_by("-seen_at")[:20]
    return {"seen": [{"hostname": r.hostname, "seconds_ago": int((now - r.seen_at).total_seconds())} for r in rows]}
