"""Classes: the live dashboard of a 300-student class against a bare view, and the CSV export of 5,000 students.

Fresh SQLite database (bench.settings), the Hyper-V course if it loads (else the sample course with the shipped
I/O lab), then `seed_class`. Requests go through Django's test client (the full middleware stack, no network), so
the time is server time. Prints the dashboard's median and p95 in ms, its ratio to the bare view, its query count,
and the export's time and queries per batch. Aims: dashboard <= 200 ms, export <= 10 s. Never a test.

Run: .venv/bin/python bench/classes_bench.py   (BENCH_STUDENTS=300, BENCH_EXPORT_STUDENTS=5000, BENCH_N=30)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "300"))
EXPORT_STUDENTS = int(os.environ.get("BENCH_EXPORT_STUDENTS", "5000"))
N = int(os.environ.get("BENCH_N", "30"))


def _load_course(folder: Path) -> object:
    from courseware import services

    try:
        return services.course_load(ROOT / "courseware" / "content" / "hyperv").course
    except services.CourseInvalidError as error:
        print(f"(the Hyper-V course does not load: {error}; using the sample course with the I/O lab)")
    target = folder / "sample-course"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sample-course", target)
    shutil.rmtree(target / "labs" / "io-trap-trace")
    shipped = ROOT / "courseware" / "content" / "hyperv" / "labs" / "io-trap-trace"
    shutil.copytree(shipped, target / "labs" / "io-trap-trace")
    return services.course_load(target).course


def _wide_course(folder: Path) -> object:
    """A generated course of 5 modules x 12 items (10 lessons, a quiz, a lab), loaded like any other."""
    from courseware import services

    root = folder / "wide"
    shipped = ROOT / "courseware" / "content" / "hyperv" / "labs" / "io-trap-trace"
    quiz = (ROOT / "tests" / "fixtures" / "sample-course" / "01-basics" / "basics-quiz.yaml").read_text()
    modules = [f"m{m}" for m in range(1, 6)]
    root.mkdir()
    (root / "course.yaml").write_text(f'slug: wide\ntitle: Wide\nversion: "1"\nsummary: Wide.\nmodules: {modules}\n')
    for m in range(1, 6):
        (root / f"m{m}").mkdir()
        items = [f"  - lesson: l{m}-{n}" for n in range(1, 11)] + [f"  - quiz: q{m}", f"  - lab: lab-{m}"]
        (root / f"m{m}" / "module.yaml").write_text(f"slug: m{m}\ntitle: Module {m}\nitems:\n" + "\n".join(items))
        for n in range(1, 11):
            (root / f"m{m}" / f"l{m}-{n}.md").write_text(
                f"---\nslug: l{m}-{n}\ntitle: Lesson {m}.{n}\nminutes: 5\n---\nText.\n"
            )
        (root / f"m{m}" / f"q{m}.yaml").write_text(quiz.replace("slug: basics-quiz", f"slug: q{m}"))
        shutil.copytree(shipped, root / "labs" / f"lab-{m}")
        lab_yaml = root / "labs" / f"lab-{m}" / "lab.yaml"
        lab_yaml.write_text(lab_yaml.read_text().replace("slug: io-trap-trace", f"slug: lab-{m}", 1))
    return services.course_load(root).course


def _timed(client: object, path: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    return times


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="classes-bench-") as folder:
        os.environ["BENCH_DB_NAME"] = str(Path(folder) / "bench.sqlite3")
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        import django

        django.setup()
        from django.core.management import call_command
        from django.core.signals import request_finished, request_started
        from django.db import close_old_connections, connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from classes import dashboard, gradebook
        from classes.seed import seed_class

        # As in Django's tests: keep one connection across requests, so that queries can be counted.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        call_command("migrate", verbosity=0)
        course = _load_course(Path(folder))
        started = time.perf_counter()
        klass = seed_class(course, STUDENTS, prefix="bench")  # type: ignore[arg-type]
        print(f"seeded {STUDENTS} students in {time.perf_counter() - started:.1f} s on {course}")  # noqa: T201
        instructor = klass.instructors.get()
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(instructor)
        dashboard_url = f"/classes/{klass.pk}/"
        _timed(client, "/bench/bare/", 5)
        _timed(client, dashboard_url, 3)  # warm-up: imports, template cache
        bare, board = [], []
        for _ in range(N):  # alternate, so that machine noise hits both alike
            bare += _timed(client, "/bench/bare/", 1)
            board += _timed(client, dashboard_url, 1)
        with CaptureQueriesContext(connection) as queries:
            client.get(dashboard_url)
        dashboard_queries = len(queries)
        htmx = Client(HTTP_HOST="127.0.0.1", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board")
        htmx.force_login(instructor)
        poll = _timed(htmx, dashboard_url, N)
        items = len(dashboard.dashboard_build(klass).items)
        bare_ms, board_ms = statistics.median(bare), statistics.median(board)
        print(f"dashboard, {STUDENTS} students x {items} items, {N} requests, Django test client, SQLite:")  # noqa: T201
        print(f"  bare view:      median {bare_ms:7.2f} ms")  # noqa: T201
        print(  # noqa: T201
            f"  dashboard page: median {board_ms:7.2f} ms, p95 {sorted(board)[int(0.95 * (N - 1))]:7.2f} ms, "
            f"{dashboard_queries} queries (aim <= 200 ms)"
        )
        print(f"  htmx poll:      median {statistics.median(poll):7.2f} ms")  # noqa: T201
        print(f"  ratio dashboard/bare: {board_ms / bare_ms:.0f}x")  # noqa: T201

        # The same class on a wide course (60 items), the size of the full Hyper-V course.
        wide = _wide_course(Path(folder))
        wide_class = seed_class(wide, STUDENTS, instructor=instructor, prefix="wide")  # type: ignore[arg-type]
        wide_board = _timed(client, f"/classes/{wide_class.pk}/", N)
        print(  # noqa: T201
            f"  wide course, {STUDENTS} x {len(dashboard.dashboard_build(wide_class).items)} items: "
            f"median {statistics.median(wide_board):7.2f} ms, ratio {statistics.median(wide_board) / bare_ms:.0f}x"
        )

        started = time.perf_counter()
        big = seed_class(course, EXPORT_STUDENTS, prefix="export")  # type: ignore[arg-type]
        print(f"seeded {EXPORT_STUDENTS} students in {time.perf_counter() - started:.1f} s")  # noqa: T201
        columns = gradebook.gradebook_columns(big)
        per_batch = []
        with CaptureQueriesContext(connection) as queries:
            before = 0
            for _rows in gradebook.gradebook_batches(big, columns):
                per_batch.append(len(queries) - before)
                before = len(queries)
        started = time.perf_counter()
        content, rows = gradebook.gradebook_csv(big)
        elapsed = time.perf_counter() - started
        print(  # noqa: T201
            f"CSV export: {rows} students, {len(content) / 1024:.0f} KiB in {elapsed:.2f} s (aim <= 10 s); "
            f"queries per batch of {gradebook.EXPORT_BATCH}: {per_batch}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
