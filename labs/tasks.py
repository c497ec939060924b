"""Celery tasks of the labs: they take ids, re-read the row and call a service (idempotent)."""

from __future__ import annotations

from celery import shared_task

from labs import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def execute_lab_run(run_id: int, recover: bool = False) -> None:
    """Take one turn: recover run `run_id` if the sweeper says its worker died, else evaluate the pending run whose
    turn it is."""
    services.lab_run_execute_next(run_id, recover)


@shared_task
def sweep_lab_runs() -> int:
    """Re-send runs whose nudge was lost (pending too long) or whose worker died (running too long)."""
    return services.lab_runs_sweep()
