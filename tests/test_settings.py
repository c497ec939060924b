"""Settings come from environment variables; a malformed value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _start(env_overrides: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    env.update({"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(env_overrides)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_it_starts_with_no_variables_on_sqlite_and_the_filesystem_broker(tmp_path: Path) -> None:
    result = _start({}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_importing_the_settings_writes_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    env["VAR_DIR"] = str(tmp_path / "var")
    code = "import config.settings as s; print(len(s.SECRET_KEY) >= 50)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
    assert not (tmp_path / "var").exists(), "folders and the secret are made at start-up, not at import"


def test_the_development_secret_is_kept_and_reused_by_the_next_process(tmp_path: Path) -> None:
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    env.update({"VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.strip() == second.stdout.strip() == (tmp_path / "secret_key").read_text()
    assert (tmp_path / "celery" / "queue").is_dir() and (tmp_path / "static").is_dir()


def test_it_uses_postgresql_and_redis_when_given(tmp_path: Path) -> None:
    result = _start(
        {"DATABASE_URL": "postgres://u@db.example:5432/hv", "REDIS_URL": "redis://cache.example:6379/0"}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://cache.example:6379/0"]


@pytest.mark.parametrize(("value", "threshold"), [("", "2147483647"), ("1", "2147483647"), ("0", "None")])
def test_prepared_statements_on_postgresql_follow_db_prepared_statements(
    tmp_path: Path, value: str, threshold: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}}
    env.update({"VAR_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db.example:5432/hv"})
    if value:
        env["DB_PREPARED_STATEMENTS"] = value
    code = "import config.settings as s; print(s.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == threshold


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("PORT", "eighty", "PORT='eighty' is not a whole number"),
        ("PORT", "70000", "PORT='70000' is out of range"),
        ("DATABASE_URL", "mysql://db/x", "DATABASE_URL must start with postgres://"),
        ("REDIS_URL", "http://cache:6379", "REDIS_URL must start with redis://"),
        ("DATABASE_URL", "postgres://db:notaport/x", "DATABASE_URL has a malformed port number"),
        ("ALLOWED_HOSTS", " , ", "ALLOWED_HOSTS=' , ' is empty"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = _start({variable: value}, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert expected in result.stderr


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    result = _start({"DEBUG": "0"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr
