"""Lesson-page throughput as a ratio to a bare Django view, served by the same real server in the same run.

Loads the sample course into a fresh database, signs a student in, starts gunicorn (1 sync worker) on a free
127.0.0.1 port, then requests the bare view and the lesson page alternately N times each (BENCH_N, default 300).
Prints requests/s of each and the ratio (aim: >= 0.5). Never a test: it fails nothing on a timing.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N = int(os.environ.get("BENCH_N", "300"))
LESSON = "/courses/sample/lessons/intro/"
BARE = "/bench/bare/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(db_name: str) -> str:
    """Migrate a fresh database, load the sample course and return a signed-in student's session key."""
    os.environ["BENCH_DB_NAME"] = db_name
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import User
    from courseware import services

    call_command("migrate", verbosity=0)
    services.course_load(ROOT / "tests" / "fixtures" / "sample-course")
    user = User.objects.create_user("bench-student", password="bench-password-123")  # noqa: S106
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def _get(port: int, path: str, cookie: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise SystemExit(f"{path} answered {response.status}: {body[:300]!r}")
    return elapsed


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited before it served a request")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start within 30 s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="courseware-bench-") as folder:
        db_name = str(Path(folder) / "bench.sqlite3")
        cookie = _prepare(db_name)
        port = _free_port()
        env = dict(os.environ, BENCH_DB_NAME=db_name, DJANGO_SETTINGS_MODULE="bench.settings")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen(
            [str(gunicorn), "config.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        try:
            _wait_until_up(port, server)
            for _ in range(20):  # warm-up: imports, template cache, first progress row
                _get(port, BARE, cookie)
                _get(port, LESSON, cookie)
            bare_total = lesson_total = 0.0
            for _ in range(N):
                bare_total += _get(port, BARE, cookie)
                lesson_total += _get(port, LESSON, cookie)
        finally:
            server.terminate()
            server.wait(timeout=10)
    bare_rps, lesson_rps = N / bare_total, N / lesson_total
    print(f"requests: {N} each, alternating, gunicorn 1 sync worker, SQLite")
    print(f"bare view:    {bare_rps:8.1f} requests/s")
    print(f"lesson page:  {lesson_rps:8.1f} requests/s  ({LESSON})")
    print(f"ratio lesson/bare: {lesson_rps / bare_rps:.2f} (aim >= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
