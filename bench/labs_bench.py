"""Benchmark: a lab action, from submit to result visible in the database, against a no-op task round trip.

Not a test. Starts a real Celery worker on its own queue, then interleaves two measurements N times:
- baseline: send the smallest task whose effect is visible (the worker heartbeat: one UPDATE) and poll the row;
- lab action: submit an action through labs.services (run row + on-commit enqueue, as a learner's request does)
  and poll the run until it is terminal (the worker replays the attempt on the simulator and stores the result).
Prints p50/p95 of each and the ratio of the p50s. Aim: ratio <= 2x, lab p95 <= 100 ms (with the Redis broker).

Uses REDIS_URL if set, else Redis on 127.0.0.1:6379 if it answers, else the filesystem transport (whose
1-second polling makes both sides slow; the ratio still means something). The database is DATABASE_URL if set,
else a throwaway SQLite file in var/.

Run: .venv/bin/python bench/labs_bench.py [N]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from tests.local_services import answers  # noqa: E402

if not os.environ.get("REDIS_URL") and answers("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/0"
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench-labs.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import User  # noqa: E402
from core.models import WorkerHeartbeat  # noqa: E402
from core.tasks import worker_heartbeat  # noqa: E402
from courseware.services import course_load  # noqa: E402
from labs import services  # noqa: E402
from labs.models import Lab, LabRun  # noqa: E402
from tests.core.worker import celery_worker  # noqa: E402
from tests.labs.conftest import build_lab_course  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _wait(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("the worker did not answer in time")
        time.sleep(0.001)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    call_command("migrate", verbosity=0)
    waiting = LabRun.objects.filter(status__in=(LabRun.Status.PENDING, LabRun.Status.RUNNING)).count()
    if waiting:  # a message is a turn: runs left waiting here would be taken before the bench's own
        sys.exit(f"this database has {waiting} lab runs waiting; the bench needs an empty queue (a fresh database)")
    folder = build_lab_course(Path(tempfile.mkdtemp()) / "bench-course", ["io-trap-trace"])
    course_load(folder)
    lab = Lab.objects.get(item__slug="io-trap-trace", item__course__slug="lab-course")
    learner, _ = User.objects.get_or_create(username="bench-learner")
    attempt = services.lab_attempt_reset(services.lab_attempt_current(learner, lab), "bench")
    vm = attempt.params["enlightened_vm"]
    action = {"op": "io", "vm": vm, "op_kind": "write", "bytes": 102400}
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    print(f"broker: {broker}; database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; rounds: {rounds}")

    baseline: list[float] = []
    lab_runs: list[float] = []
    waits: list[float] = []  # run created -> claimed by the worker (commit, broker, task start)
    works: list[float] = []  # claimed -> result stored (read the log, replay, evaluate, write)
    with celery_worker() as (_, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue  # labs.services sends runs to the queue named here
        hostname_prefix = queue
        _wait(lambda: WorkerHeartbeat.objects.filter(hostname__startswith=hostname_prefix).exists(), timeout=60)
        for index in range(rounds + 3):
            beats = WorkerHeartbeat.objects.get(hostname__startswith=hostname_prefix).beats
            started = time.perf_counter()
            worker_heartbeat.apply_async(queue=queue)
            _wait(lambda b=beats: WorkerHeartbeat.objects.get(hostname__startswith=hostname_prefix).beats > b)
            noop_s = time.perf_counter() - started

            started = time.perf_counter()  # outside any transaction, as the console view calls it
            run = services.lab_action_submit(attempt, f"io write 100KB on {vm}", action, uuid.uuid4()).run
            _wait(lambda r=run.pk: LabRun.objects.filter(pk=r, status__in=LabRun.TERMINAL).exists())
            lab_s = time.perf_counter() - started
            if index >= 3:  # warm-up rounds are not counted
                baseline.append(noop_s * 1000)
                lab_runs.append(lab_s * 1000)
                done = LabRun.objects.get(pk=run.pk)
                waits.append((done.claimed_at - done.created_at).total_seconds() * 1000)
                works.append((done.finished_at - done.claimed_at).total_seconds() * 1000)
            if attempt.action_count >= 150:  # keep the replay length realistic for one learner
                attempt = services.lab_attempt_reset(attempt, "bench")
    actions_replayed = attempt.action_count
    b50, b95 = statistics.median(baseline), _percentile(baseline, 0.95)
    l50, l95 = statistics.median(lab_runs), _percentile(lab_runs, 0.95)
    print(f"no-op task round trip : p50 {b50:7.1f} ms   p95 {b95:7.1f} ms")
    print(f"lab action -> visible : p50 {l50:7.1f} ms   p95 {l95:7.1f} ms   (replays up to {actions_replayed} actions)")
    print(f"  of which: created -> claimed p50 {statistics.median(waits):6.1f} ms; claimed -> stored p50 "
          f"{statistics.median(works):6.1f} ms")
    print(f"ratio (lab p50 / no-op p50): {l50 / b50:.2f}x   aim <= 2x; lab p95 aim <= 100 ms")


if __name__ == "__main__":
    main()
