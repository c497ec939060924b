"""Capacity: a locust load test of learners on the production-like stack, on 127.0.0.1 only, bounded in time.

Not a test, and not part of `make bench` by default (it takes about 8 minutes and loads the machine): run it with
`make bench-load` or `.venv/bin/python bench/load.py`. Needs bench/requirements.txt (locust), PostgreSQL and
Redis on 127.0.0.1 (bench/stack.py: database bench_push, Redis database 11).

1. 30 learners (think time 1-3 s between steps, bench/locustfile.py) for LOAD_SECONDS (default 60 s): sign in,
   lesson, quiz submit, lab command -> result, check -> result. Prints p50/p95 and errors per step.
2. Learners in steps (LOAD_STEPS, default 10, 30, 60, 90, 120, 150, 180, 240, 300), already signed in (sessions
   made by bench/stack.py), until a step's p95 crosses 500 ms: learners per core.
3. Lab-run throughput (signed-in learners running lab commands with no think time, 30 s) with 1 and 2 Celery
   workers and with 1 and 2 web processes, printed as ratios.
The machine's cores are shared with whatever else runs on it: the figures are for this machine at this moment.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import ROOT, Stack  # noqa: E402

LOCUST = Path(sys.executable).with_name("locust")
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
STEPS = [int(n) for n in os.environ.get("LOAD_STEPS", "10,30,60,90,120,150,180,240,300").split(",")]
CORES = os.cpu_count() or 1
RAMP = int(os.environ.get("LOAD_RAMP", "2"))  # learners started per second: sign-ins are PBKDF2, about 0.3 s of CPU
PAGE_STEPS = ("lesson", "quiz (page)", "quiz submit", "lab (page)", "command (POST)", "check (POST)")


def _locust(
    stack: Stack, users: int, seconds: int, mode: str = "", signed_in: bool = False
) -> dict[str, dict[str, float]]:
    """Run locust headless against the stack; {step name: {count, failures, p50, p95, rps}} (ms, per second)."""
    with tempfile.TemporaryDirectory(prefix="hvlab-locust-") as folder:
        prefix = str(Path(folder) / "run")
        command = [
            str(LOCUST), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary",
            "-u", str(users), "-r", str(max(RAMP, users // 5) if signed_in else RAMP), "-t", f"{seconds}s",
            "--stop-timeout", "30",
            "--host", stack.url, "--csv", prefix, "--loglevel", "ERROR",
        ]  # fmt: skip
        env = dict(os.environ, LOAD_MODE=mode, LOAD_MAX_CYCLES="1000" if mode else "50")
        if signed_in:
            env["LOAD_SESSIONS"] = str(stack.sessions_file)
        subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, timeout=seconds + 120)
        with open(prefix + "_failures.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                print(f"  failure x{row['Occurrences']}: {row['Method']} {row['Name']}: {row['Error'][:300]}")
        stats: dict[str, dict[str, float]] = {}
        with open(prefix + "_stats.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                stats[row["Name"]] = {
                    "count": float(row["Request Count"]),
                    "failures": float(row["Failure Count"]),
                    "p50": float(row["50%"] or 0),
                    "p95": float(row["95%"] or 0),
                    "rps": float(row["Requests/s"] or 0),
                }
        return stats


def _print_steps(stats: dict[str, dict[str, float]]) -> None:
    print(f"  {'step':28} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in sorted(stats.items(), key=lambda item: item[0] == "Aggregated"):
        print(f"  {name:28} {row['count']:9.0f} {row['failures']:7.0f} {row['p50']:8.0f} {row['p95']:8.0f}")


def _worst_page_p95(stats: dict[str, dict[str, float]]) -> float:
    return max((stats[name]["p95"] for name in PAGE_STEPS if name in stats), default=0.0)


def main() -> int:
    if not LOCUST.exists():
        print("skipped: locust is not installed (.venv/bin/pip install -r bench/requirements.txt)")
        return 0
    learners = max([30, *STEPS, 20])
    with Stack("production", web=2, workers=2, learners=learners) as stack:
        print(f"machine: {CORES} cores (shared with other work), gunicorn 2 processes x 8 threads, 2 Celery workers")
        stats = _locust(stack, 30, SECONDS)
        errors = sum(row["failures"] for name, row in stats.items() if name != "Aggregated")
        print(f"\n30 learners for {SECONDS} s (think time 1-3 s), errors: {errors:.0f}")
        _print_steps(stats)
        lab_p95 = stats.get("lab: command -> result", {}).get("p95", 0)
        print(f"  aim: page p95 <= 150 ms (worst page step here: {_worst_page_p95(stats):.0f} ms); ")
        print(f"       lab result p95 <= 300 ms (here: {lab_p95:.0f} ms)")

        crossed = None
        for users in STEPS:
            steady = _locust(stack, users, max(30, SECONDS // 2), signed_in=True)
            worst = max(_worst_page_p95(steady), steady.get("lab: command -> result", {}).get("p95", 0))
            print(f"\n{users} learners (steady state): worst step p95 {worst:.0f} ms")
            if worst > 500:
                crossed = users
                break
        if crossed == STEPS[0]:
            print(f"p95 is over 500 ms already at {crossed} learners ({crossed / CORES:.0f} per core)")
        elif crossed:
            below = STEPS[STEPS.index(crossed) - 1]
            per_core = f"{below / CORES:.0f}-{crossed / CORES:.0f}"
            print(f"p95 crosses 500 ms between {below} and {crossed} learners: {per_core} learners per core")
        else:
            print(f"p95 stayed under 500 ms up to {STEPS[-1]} learners ({STEPS[-1] / CORES:.0f} per core)")

        throughput: dict[tuple[int, int], float] = {}
        for web, workers in ((2, 1), (2, 2), (1, 2)):
            stack.stop()
            stack.web, stack.workers = web, workers
            stack.start()
            lab = _locust(stack, 20, 30, mode="labs", signed_in=True).get("lab: command -> result", {})
            throughput[(web, workers)] = lab.get("rps", 0.0)
            rate = throughput[(web, workers)]
            p95 = lab.get("p95", 0)
            print(f"\nlab runs/s, {web} web process(es), {workers} Celery worker(s): {rate:.1f} (p95 {p95:.0f} ms)")
    one_worker, two_workers, one_web = throughput[(2, 1)], throughput[(2, 2)], throughput[(1, 2)]
    print(f"\nratio lab runs/s, 2 Celery workers / 1: {two_workers / max(one_worker, 1e-9):.2f}x")
    print(f"ratio lab runs/s, 2 web processes / 1: {two_workers / max(one_web, 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
