"""Production: `check --deploy` is clean and gunicorn serves pages and WhiteNoise static files."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.core.worker import database_url_for_workers

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x9!" + "k3v" * 20,
    "ALLOWED_HOSTS": "hvlab.example.org,127.0.0.1",
    "TRUST_X_FORWARDED_PROTO": "1",
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by the browser tests
    env.update(PRODUCTION_ENV)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"  # not the suite's tests.settings
    env["VAR_DIR"] = str(tmp_path)
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_production_variables(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_hashes_passwords_with_pbkdf2(tmp_path: Path) -> None:
    """The suite uses a fast hasher (tests/settings.py); production must keep Django's PBKDF2."""
    code = "from django.contrib.auth.hashers import make_password; print(make_password('x').split('$')[0])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "pbkdf2_sha256"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, headers={"Host": "hvlab.example.org", "X-Forwarded-Proto": "https", **headers}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return response.status, dict(response.headers), response.read()


@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_several_workers_serves_pages_and_hashed_static_files(tmp_path: Path) -> None:
    env = _env(tmp_path, DATABASE_URL=database_url_for_workers())
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=180
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                status, headers, body = _get(base + "/")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn never answered: " + server.stderr.read1().decode() if server.stderr else "")
        assert status == 200
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        html = body.decode()
        hashed = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
        assert hashed, "static file names carry a content hash"
        status, headers, _ = _get(base + hashed.group(1))
        assert status == 200 and "immutable" in headers.get("Cache-Control", "")
        status, _, health = _get(base + "/healthz")
        assert status == 200 and b'"ok": true' in health
    finally:
        server.terminate()
        server.wait(timeout=20)
