from __future__ import annotations

import pytest

from core.models import WorkerHeartbeat
from core.tasks import worker_heartbeat
from tests.core.worker import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_runs_a_task_and_its_effect_lands_in_the_database() -> None:
    with celery_worker() as (process, queue):
        worker_heartbeat.apply_async(queue=queue)
        seen = wait_for(lambda: WorkerHeartbeat.objects.filter(hostname__startswith=queue).exists(), timeout=90)
        assert process.poll() is None, "the worker died"
    assert seen, "the worker never recorded its heartbeat"
    beat = WorkerHeartbeat.objects.get(hostname__startswith=queue)
    assert beat.beats >= 1
