"""Celery tasks of the labs: they take ids, re-read the row and call a service (idempotent)."""

from __future__ import annotations

from celery import shared_task

from labs import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def execute_lab_run(run_id: int) -> None:
    """Evaluate one lab run on the simulator and store its result; a second delivery of a finished run does nothing."""
    services.lab_run_execute(run_id)


@shared_task
def sweep_lab_runs() -> int:
    """Re-send runs whose nudge was lost (pending too long) or whose worker died (running too long)."""
    return services.lab_runs_sweep()
