from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from config.celery import app
from core.models import WorkerHeartbeat
from core.services import worker_heartbeat_record

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_as_json(anon_client: Client) -> None:
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": True, "transport": app.conf.broker_url.split("://")[0]}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_is_503_when_the_broker_is_unreachable(anon_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    real_connection = app.connection_for_write
    monkeypatch.setattr(
        app, "connection_for_write", lambda: real_connection("redis://127.0.0.1:9/0", connect_timeout=0.5)
    )
    body = anon_client.get("/healthz")
    assert body.status_code == 503
    assert body.json()["broker"]["ok"] is False
    assert body.json()["database"]["ok"] is True


def test_healthz_is_503_when_the_database_fails(anon_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connection

    def broken_cursor(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = anon_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "vendor": connection.vendor, "error": "OperationalError"}


def test_healthz_lists_worker_heartbeats(anon_client: Client) -> None:
    worker_heartbeat_record("celery@node-a")
    worker_heartbeat_record("celery@node-a")
    assert WorkerHeartbeat.objects.get(hostname="celery@node-a").beats == 2
    seen = anon_client.get("/healthz").json()["workers"]["seen"]
    assert seen[0]["hostname"] == "celery@node-a" and seen[0]["seconds_ago"] >= 0


def test_healthz_refuses_post(anon_client: Client) -> None:
    assert anon_client.post("/healthz").status_code == 405
