"""Start the site as it runs in production (gunicorn, PostgreSQL, Redis, Celery workers) or as `make run` runs it
(runserver, SQLite, Celery's filesystem transport), on 127.0.0.1 only, for the browser and load benchmarks.

Production-like: PostgreSQL database `bench_push` on 127.0.0.1 (re-created each run: never `test`, which the test
suites use), Redis database 11 on 127.0.0.1:6379 (its own number, so no other cache key is touched), a Celery queue
and notification prefix of its own. Settings are bench.settings (DEBUG off, the bench URLconf with its no-op views).
Everything it starts is stopped on exit; the temporary folder (var/) is removed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from tests.local_services import answers

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/bench_push")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
COURSE = ROOT / "courseware" / "content" / "hyperv"
PASSWORD = "bench-password-123"  # noqa: S105 - throwaway learners of a throwaway database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """`with Stack("production", web=1, workers=1, learners=30) as stack:` then stack.url, stack.usernames."""

    def __init__(self, mode: str, web: int = 1, workers: int = 1, learners: int = 1, threads: int = 8) -> None:
        if mode not in ("production", "embedded"):
            raise ValueError("mode is production or embedded")
        self.mode, self.web, self.workers, self.learners, self.threads = mode, web, workers, learners, threads
        self.folder = Path(tempfile.mkdtemp(prefix="hvlab-bench-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.usernames = [f"learner{n:03d}" for n in range(learners)]
        self.processes: list[subprocess.Popen[bytes]] = []
        tag = uuid.uuid4().hex[:10]
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
        self.env.update(
            {
                "VAR_DIR": str(self.folder),
                "CELERY_QUEUE": f"bench-{tag}",
                "LAB_NOTIFY_PREFIX": f"bench-{tag}",
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
                # The benches measure speed, not the per-learner limits: a bench learner runs far more than 30 a minute.
                "LAB_SUBMISSIONS_PER_MINUTE": "10000",
                "LAB_QUEUED_RUNS_MAX": "1000",
            }
        )
        if mode == "production":
            self.env.update(
                {
                    "DJANGO_SETTINGS_MODULE": "bench.settings",
                    "DATABASE_URL": PG_URL,
                    "BENCH_DB_NAME": PG_URL.rsplit("/", 1)[1],
                    "REDIS_URL": REDIS_URL,
                }
            )
        else:  # exactly `make run`: config.settings, DEBUG on, SQLite and the filesystem transport under VAR_DIR
            self.env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"})

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, text=True
        )
        return result.stdout

    def prepare(self) -> None:
        if self.mode == "production":
            if not answers("127.0.0.1", 5432) or not answers("127.0.0.1", 6379):
                raise SystemExit("the production-like stack needs PostgreSQL and Redis on 127.0.0.1")
            name = self.env["BENCH_DB_NAME"]
            if name in ("test", "test_test", "hvlab"):
                raise SystemExit(f"refusing to re-create the database {name!r}")
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
            import redis

            redis.Redis.from_url(REDIS_URL).flushdb()
            self.manage("collectstatic", "--noinput", "-v", "0")
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("load_course", str(COURSE))
        script = (
            "from accounts.models import User\n"
            f"names = {self.usernames!r}\n"
            "proto = User(username='x'); proto.set_password(" + repr(PASSWORD) + ")\n"
            "User.objects.bulk_create([User(username=n, password=proto.password) for n in names])\n"
            # A signed-in session per learner, made as login() makes it, for runs that measure past the sign-in.
            "from importlib import import_module\n"
            "from django.conf import settings\n"
            "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
            "store = import_module(settings.SESSION_ENGINE).SessionStore\n"
            "for user in User.objects.filter(username__in=names).order_by('username'):\n"
            "    session = store()\n"
            "    session[SESSION_KEY] = str(user.pk)\n"
            "    session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
            "    session[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
            "    session.create()\n"
            "    print(session.session_key)\n"
        )
        self.sessions_file = self.folder / "sessions.txt"
        output = self.manage("shell", "-c", script).split()  # the shell also prints what it imported: keep the keys
        keys = [word for word in output if re.fullmatch(r"[a-z0-9]{32}", word)]
        if len(keys) != len(self.usernames):
            raise SystemExit(f"made {len(keys)} sessions for {len(self.usernames)} learners")
        self.sessions_file.write_text("\n".join(keys) + "\n")

    def start(self) -> None:
        log = open(self.folder / "stack.log", "ab")  # noqa: SIM115 - closed with the folder
        if self.mode == "production":
            web = [
                str(BIN / "gunicorn"), "config.wsgi", "--workers", str(self.web), "--worker-class", "gthread",
                "--threads", str(self.threads), "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
                # Longer than a learner's think time: with the default 2 s, a kept-alive connection that gunicorn
                # closes as the client reuses it reads as "connection reset" (a client artefact, not a server error).
                "--keep-alive", "10",
            ]  # fmt: skip
        else:
            web = [PYTHON, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        self._spawn(web, log)
        for index in range(self.workers):
            self._spawn(
                [
                    PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", self.env["CELERY_QUEUE"],
                    "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--loglevel", "WARNING", "--hostname", f"{self.env['CELERY_QUEUE']}-{index}@%h",
                ],
                log,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not answers("127.0.0.1", self.port):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise SystemExit(f"the stack did not start; see {self.folder / 'stack.log'}")
            time.sleep(0.2)
        time.sleep(2.0)  # let the workers connect to the broker

    def _spawn(self, command: list[str], log: object) -> None:
        self.processes.append(
            subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)  # type: ignore[arg-type]
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> Stack:
        try:
            self.prepare()
            self.start()
        except BaseException:
            self.stop()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        log = self.folder / "stack.log"
        if error is not None and log.exists():  # the servers' own account of what went wrong, before it is deleted
            tail = log.read_text(errors="replace").splitlines()[-40:]
            print("--- last lines of the stack's log ---", *tail, sep="\n", file=sys.stderr)
        shutil.rmtree(self.folder, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
