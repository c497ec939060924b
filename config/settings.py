"""Settings for the Hyper-V training platform, read from environment variables.

With no variables set everything works on one machine with no server: SQLite and
Celery's filesystem transport under var/, and a generated development secret.
Production switches on by variables (DATABASE_URL, REDIS_URL, DEBUG=0, SECRET_KEY,
ALLOWED_HOSTS), never by a second copy of this file.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
# Importing these settings writes nothing: the folders under VAR_DIR and the development secret file are made
# when the apps start (core.apps.CoreConfig.ready), by the process that needs them.

DEBUG = env_bool("DEBUG", True)
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)


DEVELOPMENT_SECRET_FILE = VAR_DIR / "secret_key"
"""Where `make run` keeps its generated key, so sessions survive a restart (DEBUG only; see core.apps)."""
DEVELOPMENT_SECRET_GENERATED = False

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0: expected a long random string.")
    try:
        SECRET_KEY = DEVELOPMENT_SECRET_FILE.read_text().strip()
    except OSError:
        SECRET_KEY = ""
    if not SECRET_KEY:
        SECRET_KEY = secrets.token_urlsafe(50)
        DEVELOPMENT_SECRET_GENERATED = True  # core.apps keeps it in DEVELOPMENT_SECRET_FILE at start-up
elif len(SECRET_KEY) < 32 and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is too short: expected at least 32 random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "accounts.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "accounts",
    "core",
    "courseware",
    "labs",
    "classes",
    "delivery",
    "lti",
]

MIDDLEWARE = [
    "lti.middleware.FramePolicyMiddleware",  # first, so it sees every header the others set (see its docstring)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.caching.CachedUserAuthenticationMiddleware",  # Django's, with the user from the cache (see there)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every response (django-csp): scripts only from our own origin, so no inline script, no
# inline event handler and no htmx `hx-on`; htmx itself is told not to evaluate (base.html: htmx-config allowEval).
# Inline style attributes stay allowed (data bars such as the heatmap's --heat); styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
    }
}

# --- Email (password reset): printed to the console unless an SMTP host is set ------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Hyper-V Lab <noreply@localhost>")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: PostgreSQL from DATABASE_URL, else SQLite under var/ -----------------------------
DATABASE_URL = env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_PREPARED_STATEMENTS", True):
        # psycopg prepares a statement only when a cursor asks for it: the lab's hot statements (labs/runsql.py).
        # Django's own queries use client-side binding and are never prepared; None would turn preparing off.
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the Celery worker write side by side, whether the file is the
    # default one or named by DATABASE_URL (as for the workers that the tests and benchmarks start).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file (not :memory:) so that a real Celery worker started by the tests sees the test database;
    # one per test process so that parallel test runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache from REDIS_URL, else the filesystem -----------------------
REDIS_URL = env_url("REDIS_URL", ("redis", "rediss"))
CELERY_QUEUE = env_str("CELERY_QUEUE", "hvlab")
CELERY_FILESYSTEM_DIR = Path(env_str("CELERY_FILESYSTEM_DIR", str(VAR_DIR / "celery")))

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Longer than the hard time limit, so a slow task is never delivered twice while it still runs.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 300}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CELERY_BROKER_URL = "filesystem://"
    _queue_dir = CELERY_FILESYSTEM_DIR / "queue"
    _processed_dir = CELERY_FILESYSTEM_DIR / "processed"
    _control_dir = CELERY_FILESYSTEM_DIR / "control"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
        "polling_interval": 0.1,  # seconds: a lab run should answer in tens of milliseconds, not a second
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Sessions are read from the cache (Redis in production) and written through to the database, so a page costs no
# session query and a cache flush signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_TASK_DEFAULT_QUEUE = CELERY_QUEUE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process on Redis, so an idle worker on another machine takes the next run. On the
# filesystem transport the worker's loop only sees a finished task's ack when its 2-second poll ends (celery
# worker/loops.py synloop), so with a window of one every run after the first waited ~2 s; a window of 4 lets the
# next message in while the last ack is pending (one worker: nothing is taken from anyone).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1 if REDIS_URL else 4
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 20, minimum=1, maximum=3600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30, minimum=2, maximum=3600)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must be greater than CELERY_TASK_SOFT_TIME_LIMIT.")
CELERY_TASK_IGNORE_RESULT = True  # the database row is the source of truth, never a result backend
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "worker-heartbeat": {"task": "core.tasks.worker_heartbeat", "schedule": 60.0},
    "sweep-lab-runs": {"task": "labs.tasks.sweep_lab_runs", "schedule": 10.0},
    "sweep-gradebook-exports": {"task": "classes.tasks.sweep_gradebook_exports", "schedule": 60.0},
    "lti-purge-used-nonces": {"task": "lti.tasks.purge_used_nonces", "schedule": 3600.0},
    "lti-sweep-scores": {"task": "lti.tasks.sweep_scores", "schedule": 60.0},
    "lti-sync-rosters": {"task": "lti.tasks.sync_all_rosters", "schedule": 86400.0},
}

# --- Lab runs (see labs/services.py) ------------------------------------------------------------
# A pending run whose nudge is older than this is re-sent; a running run claimed longer ago than the stale
# limit (its worker died) is taken over. The fault delay exists only for the worker-kill tests.
LAB_RUN_PENDING_SECONDS = env_int("LAB_RUN_PENDING_SECONDS", 10, minimum=0, maximum=3600)
LAB_RUN_STALE_SECONDS = env_int("LAB_RUN_STALE_SECONDS", CELERY_TASK_TIME_LIMIT + 15, minimum=0, maximum=3600)
LAB_RUN_FAULT_DELAY_SECONDS = env_int("LAB_RUN_FAULT_DELAY_SECONDS", 0, minimum=0, maximum=60)
# Per learner: runs waiting or running at once, and console/form/check submissions a minute (429 beyond).
LAB_QUEUED_RUNS_MAX = env_int("LAB_QUEUED_RUNS_MAX", 20, minimum=1, maximum=1000)
LAB_SUBMISSIONS_PER_MINUTE = env_int("LAB_SUBMISSIONS_PER_MINUTE", 30, minimum=1, maximum=10000)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Results are pushed (labs/notify.py): the page's long-poll waits at most this long per request, and listens on
# Redis channels named with this prefix (several deployments can share one Redis).
LAB_RUN_WAIT_SECONDS = env_int("LAB_RUN_WAIT_SECONDS", 25, minimum=1, maximum=55)
LAB_NOTIFY_PREFIX = env_str("LAB_NOTIFY_PREFIX", "hvlab")
# A console or check POST waits up to this long for its runs' results and answers with them (a run takes tens of
# milliseconds): one request instead of the POST and a long-poll. A run still waiting after that is answered pending
# and the page's long-poll takes over. 0 turns the wait off.
LAB_RUN_INLINE_WAIT_MS = env_int("LAB_RUN_INLINE_WAIT_MS", 500, minimum=0, maximum=5000)

# --- Accounts -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Throttle repeated failed logins per account (OWASP ASVS 2.2.1): 5 failures lock the username for 15 minutes.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1, maximum=24 * 60))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_VERBOSE = False
# Sign-ups per client address (a classroom behind one NAT address may need more): every POST counts.
SIGNUP_LIMIT = env_int("SIGNUP_LIMIT", 10, minimum=1, maximum=10_000)
SIGNUP_WINDOW_MINUTES = env_int("SIGNUP_WINDOW_MINUTES", 10, minimum=1, maximum=24 * 60)
# Proxies in front of the app that append the client's address to X-Forwarded-For (0: none, use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)

# --- Internationalisation, static files ---------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Security (production: DEBUG=0) -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # An LMS shows our pages in an iframe on its own site: cookies must be sent in that third-party context.
    SESSION_COOKIE_SAMESITE = "None"
    CSRF_COOKIE_SAMESITE = "None"
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, maximum=10**9)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [origin.strip() for origin in env_str("CSRF_TRUSTED_ORIGINS").split(",") if origin.strip()]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Lockout is per account on purpose: a classroom shares one NAT address, so locking an IP would lock out the room.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
