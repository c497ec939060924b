"""Reliability with a real Celery worker: a killed worker, a flushed broker, a double click.

The database row is the source of truth: whatever happens to the worker or the broker, every run ends in a
terminal state and its result is recorded once.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import transaction

from labs import services
from labs.models import Lab, LabRun
from tests.core.worker import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _submit(attempt: Any, action: dict[str, Any], token: uuid.UUID | None = None) -> LabRun:
    with transaction.atomic():  # enqueued on commit, like a request
        return services.lab_action_submit(attempt, "cmd", action, token or uuid.uuid4()).run


def _status(run_id: int) -> str:
    return LabRun.objects.values_list("status", flat=True).get(pk=run_id)


def _flush_broker() -> None:
    """Lose every queued message: FLUSHALL on Redis, or empty the filesystem transport's folder."""
    if django_settings.REDIS_URL:
        import redis

        redis.Redis.from_url(django_settings.REDIS_URL).flushall()
    else:
        folder = django_settings.CELERY_FILESYSTEM_DIR / "queue"
        for message in folder.glob("*.msg"):
            message.unlink(missing_ok=True)


def test_a_worker_killed_mid_run_is_recovered_and_the_result_recorded_once(
    alice: Any, io_lab: Lab, settings: Any
) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    with celery_worker({"LAB_RUN_FAULT_DELAY_SECONDS": "4"}) as (worker, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        run = _submit(attempt, {"op": "host.reboot"})
        assert wait_for(lambda: _status(run.pk) == LabRun.Status.RUNNING, timeout=60), "the worker never claimed it"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert _status(run.pk) == LabRun.Status.RUNNING, "the dead worker left the run running"

    with celery_worker({"LAB_RUN_STALE_SECONDS": "1"}) as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        settings.LAB_RUN_STALE_SECONDS = 1
        time.sleep(1.5)

        def swept_and_done() -> bool:
            services.lab_runs_sweep()
            return LabRun.objects.get(pk=run.pk).is_terminal

        assert wait_for(swept_and_done, timeout=90, interval=1.0)
    run.refresh_from_db()
    assert run.status == LabRun.Status.PASSED
    assert run.deliveries == 2, "claimed by the killed worker, then once by the recovery"
    assert run.finished_at is not None and run.result["output"]["op"] == "host.reboot"


def test_every_run_ends_terminal_when_the_broker_loses_its_messages(alice: Any, io_lab: Lab, settings: Any) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    with celery_worker() as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        settings.LAB_RUN_PENDING_SECONDS = 1
        runs = [
            _submit(
                attempt,
                {
                    "op": "access",
                    "user": "Administrator",
                    "operation": "Start Virtual Machine",
                    "vm": attempt.params["legacy_vm"],
                },
            )
            for _ in range(12)
        ]
        _flush_broker()  # in the middle of the batch: some runs were taken, the rest are lost
        ids = [r.pk for r in runs]

        def all_terminal() -> bool:
            services.lab_runs_sweep()
            return LabRun.objects.filter(pk__in=ids).exclude(status__in=LabRun.TERMINAL).count() == 0

        assert wait_for(all_terminal, timeout=120, interval=1.5)
    statuses = set(LabRun.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {LabRun.Status.PASSED}


def test_a_double_click_is_recorded_and_run_once(alice: Any, io_lab: Lab, settings: Any) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    token = uuid.uuid4()
    with celery_worker() as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        first = _submit(attempt, {"op": "host.reboot"}, token)
        second = _submit(attempt, {"op": "host.reboot"}, token)
        assert first.pk == second.pk
        assert wait_for(lambda: LabRun.objects.get(pk=first.pk).is_terminal, timeout=90)
    assert LabRun.objects.filter(attempt=attempt).count() == 1
    assert LabRun.objects.get(pk=first.pk).deliveries == 1
