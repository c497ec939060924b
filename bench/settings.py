"""Settings for benchmarks only: the product's settings, a throw-away database, and the bench URLconf."""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES, VAR_DIR

ROOT_URLCONF = "bench.bare"
DEBUG = False  # no query log, as in production
DATABASES["default"]["NAME"] = os.environ.get("BENCH_DB_NAME", str(VAR_DIR / "bench.sqlite3"))
